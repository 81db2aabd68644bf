#include "queue/NatsClient.h"

#include <chrono>
#include <thread>

#include <nats/nats.h>

#include "common/Error.h"

namespace nephro::queue {
namespace {

Error natsError(const std::string& what, natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string text = "nats: " + what + ": " + natsStatus_GetText(s);
  if (jerr != 0) text += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  return Error(ErrorKind::Output, text);
}

int64_t nanos(double seconds) { return static_cast<int64_t>(seconds * 1e9); }

}  // namespace

std::string normalizeQueueUrl(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("nats://", 0) == 0) rest = rest.substr(7);
  const size_t colon = rest.rfind(':');
  if (rest.empty() || colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find_first_not_of("0123456789", colon + 1) != std::string::npos || rest.find('/') != std::string::npos)
    throw usageError("--queue must be nats://HOST:PORT, not '" + url + "'");
  return "nats://" + rest;
}

QueueMessage::QueueMessage(natsMsg* msg) : msg_(msg) {}
QueueMessage::~QueueMessage() { natsMsg_Destroy(msg_); }
std::string QueueMessage::data() const {
  const char* d = natsMsg_GetData(msg_);
  return d ? std::string(d, static_cast<size_t>(natsMsg_GetDataLength(msg_))) : std::string();
}
std::string QueueMessage::subject() const { return natsMsg_GetSubject(msg_); }
uint64_t QueueMessage::deliveries() const {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg_) != NATS_OK || !meta) return 1;
  const uint64_t n = meta->NumDelivered;
  jsMsgMetaData_Destroy(meta);
  return n;
}
bool QueueMessage::ack() { return natsMsg_AckSync(msg_, nullptr, nullptr) == NATS_OK; }
bool QueueMessage::nak(int64_t delayMs) { return natsMsg_NakWithDelay(msg_, delayMs, nullptr) == NATS_OK; }
bool QueueMessage::inProgress() { return natsMsg_InProgress(msg_, nullptr) == NATS_OK; }
bool QueueMessage::term() { return natsMsg_Term(msg_, nullptr) == NATS_OK; }

NatsClient::NatsClient(QueueSettings settings) : settings_(std::move(settings)) {
  settings_.url = normalizeQueueUrl(settings_.url);
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, settings_.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);   // wait out a server restart, however long
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
  if (s != NATS_OK) {
    natsOptions_Destroy(opts);
    throw natsError("options", s);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(settings_.connectSeconds);
  for (;;) {
    s = natsConnection_Connect(&nc_, opts);
    if (s == NATS_OK || std::chrono::steady_clock::now() >= until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK) throw natsError("cannot connect to " + settings_.url, s);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  s = natsConnection_JetStream(&js_, nc_, &jo);
  if (s != NATS_OK) {
    natsConnection_Destroy(nc_);
    throw natsError("JetStream context", s);
  }
}

NatsClient::~NatsClient() {
  if (sub_) natsSubscription_Destroy(sub_);
  if (kv_) kvStore_Destroy(kv_);
  if (js_) jsCtx_Destroy(js_);
  if (nc_) {
    natsConnection_FlushTimeout(nc_, 1000);
    natsConnection_Destroy(nc_);
  }
}

bool NatsClient::connected() const { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

void NatsClient::ensureTopology() {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto addStream = [&](const std::string& name, const std::string& subjects, jsRetentionPolicy retention) {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &jerr) == NATS_OK) {
      jsStreamInfo_Destroy(si);
      return;
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subj[1] = {subjects.c_str()};
    cfg.Name = name.c_str();
    cfg.Subjects = subj;
    cfg.SubjectsLen = 1;
    cfg.Retention = retention;
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = nanos(120);
    natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
    if (s != NATS_OK && jerr != JSStreamNameExistErr) throw natsError("cannot create stream " + name, s, jerr);
    jsStreamInfo_Destroy(si);
  };
  addStream(settings_.stream, settings_.subjectPrefix + ".>", js_WorkQueuePolicy);
  addStream(settings_.deadStream, settings_.deadPrefix + ".>", js_LimitsPolicy);

  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, js_, settings_.stream.c_str(), settings_.consumer.c_str(), nullptr, &jerr) == NATS_OK) {
    // The consumer's settings win over this process's options (the first process created it).
    if (ci->Config) {
      settings_.ackWaitSeconds = static_cast<double>(ci->Config->AckWait) / 1e9;
      settings_.maxDeliver = static_cast<int>(ci->Config->MaxDeliver);
    }
    jsConsumerInfo_Destroy(ci);
  } else {
    const std::string filter = settings_.subjectPrefix + ".>";
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = settings_.consumer.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = nanos(settings_.ackWaitSeconds);
    cc.MaxDeliver = settings_.maxDeliver;
    cc.FilterSubject = filter.c_str();
    cc.MaxAckPending = 1000;
    natsStatus s = js_AddConsumer(&ci, js_, settings_.stream.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK && jerr != JSConsumerNameExistErr) throw natsError("cannot create consumer " + settings_.consumer, s, jerr);
    jsConsumerInfo_Destroy(ci);
  }
  openBucket();
}

void NatsClient::openBucket() {
  if (kv_) return;
  if (js_KeyValue(&kv_, js_, settings_.bucket.c_str()) == NATS_OK) return;
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = settings_.bucket.c_str();
  kc.History = 1;
  kc.StorageType = js_FileStorage;
  natsStatus s = js_CreateKeyValue(&kv_, js_, &kc);
  if (s != NATS_OK) {
    kv_ = nullptr;
    if (js_KeyValue(&kv_, js_, settings_.bucket.c_str()) == NATS_OK) return;  // created by another process meanwhile
    kv_ = nullptr;
    throw natsError("cannot open bucket " + settings_.bucket, s);
  }
}

void NatsClient::publish(const std::string& subject, const std::string& data, const std::string& msgId) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (!msgId.empty()) po.MsgId = msgId.c_str();
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&pa, js_, subject.c_str(), data.data(), static_cast<int>(data.size()), &po, &jerr);
  jsPubAck_Destroy(pa);
  if (s != NATS_OK) throw natsError("cannot publish to " + subject, s, jerr);
}

std::optional<std::string> NatsClient::get(const std::string& key) {
  openBucket();
  kvEntry* e = nullptr;
  natsStatus s = kvStore_Get(&e, kv_, key.c_str());
  if (s == NATS_NOT_FOUND) return std::nullopt;
  if (s != NATS_OK) throw natsError("cannot read " + key, s);
  const char* v = kvEntry_ValueString(e);
  std::string value = v ? v : "";
  kvEntry_Destroy(e);
  return value;
}

void NatsClient::put(const std::string& key, const std::string& value) {
  openBucket();
  uint64_t rev = 0;
  natsStatus s = kvStore_PutString(&rev, kv_, key.c_str(), value.c_str());
  if (s != NATS_OK) throw natsError("cannot write " + key, s);
}

std::unique_ptr<QueueMessage> NatsClient::fetch(int timeoutMs) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (!sub_) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = settings_.stream.c_str();
    so.Consumer = settings_.consumer.c_str();
    const std::string filter = settings_.subjectPrefix + ".>";
    natsStatus s = js_PullSubscribe(&sub_, js_, filter.c_str(), settings_.consumer.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) {
      sub_ = nullptr;
      throw natsError("cannot bind to consumer " + settings_.consumer, s, jerr);
    }
  }
  natsMsgList list{nullptr, 0};
  natsStatus s = natsSubscription_Fetch(&list, sub_, 1, timeoutMs, &jerr);
  if (s == NATS_TIMEOUT) return nullptr;
  if (s != NATS_OK) throw natsError("fetch", s, jerr);
  std::unique_ptr<QueueMessage> m;
  if (list.Count > 0) {
    m = std::make_unique<QueueMessage>(list.Msgs[0]);
    list.Msgs[0] = nullptr;
  }
  natsMsgList_Destroy(&list);
  return m;
}

uint64_t NatsClient::streamMessages(const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND) return 0;
  if (s != NATS_OK) throw natsError("stream info " + stream, s, jerr);
  const uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

std::pair<uint64_t, uint64_t> NatsClient::consumerPending() {
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, js_, settings_.stream.c_str(), settings_.consumer.c_str(), nullptr, &jerr);
  if (s != NATS_OK) throw natsError("consumer info " + settings_.consumer, s, jerr);
  const std::pair<uint64_t, uint64_t> p{ci->NumPending, static_cast<uint64_t>(ci->NumAckPending)};
  jsConsumerInfo_Destroy(ci);
  return p;
}

}  // namespace nephro::queue
