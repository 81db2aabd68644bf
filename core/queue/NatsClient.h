#pragma once
// A thin C++ wrapper over nats.c for the stage queue. One connection with
// endless reconnects (a nats-server restart is waited out), a JetStream
// context, and the four things the queue needs, created when missing:
//
//   stream   NEPHRO3D_STAGES   work-queue retention, file storage, subjects nephro3d.stage.>
//   consumer nephro3d-workers  the one durable pull consumer every worker binds to
//                              (explicit acks, AckWait, MaxDeliver)
//   stream   NEPHRO3D_DEAD     dead letters (limits retention), subjects nephro3d.dead.>
//   bucket   NEPHRO3D_JOBS     key-value: stage results ("stage.<job>.<index>") and job state
//
// Every call that talks to the server throws nephro::Error (Output kind) when
// it fails; callers that must outlive a server restart retry.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

struct __natsConnection;
struct __jsCtx;
struct __kvStore;
struct __natsSubscription;
struct __natsMsg;

namespace nephro::queue {

struct QueueSettings {
  std::string url;                              // nats://HOST:PORT
  std::string stream = "NEPHRO3D_STAGES";
  std::string subjectPrefix = "nephro3d.stage";
  std::string deadStream = "NEPHRO3D_DEAD";
  std::string deadPrefix = "nephro3d.dead";
  std::string consumer = "nephro3d-workers";
  std::string bucket = "NEPHRO3D_JOBS";
  double ackWaitSeconds = 60;
  int maxDeliver = 3;
  double connectSeconds = 30;                   // how long the first connection is retried
};

// Checks nats://HOST:PORT (or HOST:PORT); throws a usage error otherwise.
std::string normalizeQueueUrl(const std::string& url);

// A delivered stage message; destroyed without an ack it is redelivered after AckWait.
class QueueMessage {
 public:
  explicit QueueMessage(__natsMsg* msg);
  ~QueueMessage();
  QueueMessage(const QueueMessage&) = delete;
  QueueMessage& operator=(const QueueMessage&) = delete;
  std::string data() const;
  std::string subject() const;
  uint64_t deliveries() const;  // 1 on the first delivery
  bool ack();                   // waits for the server's confirmation
  bool nak(int64_t delayMs);
  bool inProgress();
  bool term();

 private:
  __natsMsg* msg_;
};

class NatsClient {
 public:
  explicit NatsClient(QueueSettings settings);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  const QueueSettings& settings() const { return settings_; }
  // Creates the streams, the consumer and the bucket when missing.
  void ensureTopology();
  void publish(const std::string& subject, const std::string& data, const std::string& msgId = {});
  std::optional<std::string> get(const std::string& key);
  void put(const std::string& key, const std::string& value);
  // Binds this client to the shared durable consumer (once), then waits up to
  // timeoutMs for one message; nullptr when none came.
  std::unique_ptr<QueueMessage> fetch(int timeoutMs);
  bool connected() const;
  // Messages in a stream (0 when the stream is empty or missing).
  uint64_t streamMessages(const std::string& stream);
  // The shared consumer's messages not yet delivered, and delivered but not yet acked.
  std::pair<uint64_t, uint64_t> consumerPending();

 private:
  void openBucket();
  QueueSettings settings_;
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  __kvStore* kv_ = nullptr;
  __natsSubscription* sub_ = nullptr;
};

}  // namespace nephro::queue
