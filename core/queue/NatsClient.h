#pragma once
// A thin C++ wrapper over nats.c for the stage queue. One connection with
// endless reconnects (a nats-server restart is waited out), a JetStream
// context, and the four things the queue needs, created when missing:
//
//   stream   NEPHRO3D_STAGES   work-queue retention, file storage, subjects nephro3d.stage.>
//   consumer nephro3d-workers  the durable pull consumer of the mask-only stages
//                              (nephro3d.stage.any.>) every worker binds to (explicit acks,
//                              AckWait, MaxDeliver)
//   consumer nephro3d-model-<model>  one durable pull consumer per model subject
//                              (nephro3d.stage.model.<model>), shared by every worker that serves it
//   stream   NEPHRO3D_DEAD     dead letters (limits retention), subjects nephro3d.dead.>
//   stream   NEPHRO3D_ADVISORIES  JetStream's max-deliveries advisories for the stage stream
//                              (work-queue retention), read by the servers through the durable
//                              consumer nephro3d-servers, so an advisory raised while no server
//                              is connected is still handled
//   bucket   NEPHRO3D_JOBS     key-value: stage results ("stage.<job>.<index>") and job records
//                              ("job.<job>"), updated with the expected revision
//
// Every call that talks to the server throws nephro::Error (Output kind) when
// it fails; callers that must outlive a server restart retry.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  std::string consumer = "nephro3d-workers";    // the mask-only stages
  std::string modelConsumerPrefix = "nephro3d-model-";
  std::string advisoryStream = "NEPHRO3D_ADVISORIES";
  std::string advisoryConsumer = "nephro3d-servers";
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
  // A value with its revision (the stream sequence of its last write).
  struct Revisioned {
    std::string value;
    uint64_t revision = 0;
  };
  std::optional<Revisioned> getRevisioned(const std::string& key);
  // Writes `value` only when the key's revision is still `revision` (0: only
  // when the key does not exist). False when another writer came first.
  bool putIfRevision(const std::string& key, const std::string& value, uint64_t revision);
  // Keys of the bucket that start with `prefix`.
  std::vector<std::string> keys(const std::string& prefix);

  // The subject and durable consumer of a model's stages.
  std::string modelSubject(const std::string& model) const;
  std::string modelConsumer(const std::string& model) const;
  std::string anySubjectFilter() const { return settings_.subjectPrefix + ".any.>"; }
  // Creates a model's durable consumer when missing (AckWait and MaxDeliver as the queue's).
  void ensureModelConsumer(const std::string& model);
  // The models that have a consumer on the stage stream.
  std::vector<std::string> modelsWithConsumers();

  // Binds this client to a durable consumer (once per consumer), then waits up
  // to timeoutMs for one message; nullptr when none came.
  std::unique_ptr<QueueMessage> fetch(const std::string& consumer, const std::string& filter, int timeoutMs);
  std::unique_ptr<QueueMessage> fetch(int timeoutMs) { return fetch(settings_.consumer, anySubjectFilter(), timeoutMs); }
  bool connected() const;
  // Messages in a stream (0 when the stream is empty or missing).
  uint64_t streamMessages(const std::string& stream);
  // A stored message of a stream: subject and data; nullopt when it is gone.
  std::optional<std::pair<std::string, std::string>> streamMessage(const std::string& stream, uint64_t seq);
  void deleteStreamMessage(const std::string& stream, uint64_t seq);
  // Over every consumer of the stage stream: messages not yet delivered, and delivered but not yet acked.
  std::pair<uint64_t, uint64_t> consumerPending();

 private:
  void openBucket();
  void ensureConsumer(const std::string& stream, const std::string& name, const std::string& filter, bool adopt);
  QueueSettings settings_;
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  __kvStore* kv_ = nullptr;
  std::mutex subsMutex_;
  std::map<std::string, __natsSubscription*> subs_;  // consumer -> bound pull subscription
};

}  // namespace nephro::queue
