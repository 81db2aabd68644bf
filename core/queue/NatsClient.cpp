#include "queue/NatsClient.h"

#include <cctype>
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

// A model id as one subject token and consumer-name part: letters, digits, '-' and '_'.
std::string subjectToken(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "_" : out;
}

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
  for (auto& [name, sub] : subs_) natsSubscription_Destroy(sub);
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

  // The advisory stream captures JetStream's max-deliveries advisories of every stage consumer.
  addStream(settings_.advisoryStream, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + settings_.stream + ".>", js_WorkQueuePolicy);
  ensureConsumer(settings_.stream, settings_.consumer, anySubjectFilter(), true);
  ensureConsumer(settings_.advisoryStream, settings_.advisoryConsumer, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + settings_.stream + ".>", false);
  openBucket();
}

void NatsClient::ensureConsumer(const std::string& stream, const std::string& name, const std::string& filter, bool adopt) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, js_, stream.c_str(), name.c_str(), nullptr, &jerr) == NATS_OK) {
    // The consumer's settings win over this process's options (the first process created it).
    if (adopt && ci->Config) {
      settings_.ackWaitSeconds = static_cast<double>(ci->Config->AckWait) / 1e9;
      settings_.maxDeliver = static_cast<int>(ci->Config->MaxDeliver);
    }
    jsConsumerInfo_Destroy(ci);
    return;
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = name.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = nanos(settings_.ackWaitSeconds);
  cc.MaxDeliver = settings_.maxDeliver;
  if (!filter.empty()) cc.FilterSubject = filter.c_str();
  cc.MaxAckPending = 1000;
  natsStatus s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK && jerr != JSConsumerNameExistErr) throw natsError("cannot create consumer " + name, s, jerr);
  jsConsumerInfo_Destroy(ci);
}

std::string NatsClient::modelSubject(const std::string& model) const { return settings_.subjectPrefix + ".model." + subjectToken(model); }
std::string NatsClient::modelConsumer(const std::string& model) const { return settings_.modelConsumerPrefix + subjectToken(model); }

void NatsClient::ensureModelConsumer(const std::string& model) {
  ensureConsumer(settings_.stream, modelConsumer(model), modelSubject(model), false);
}

std::vector<std::string> NatsClient::modelsWithConsumers() {
  jsConsumerNamesList* list = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_ConsumerNames(&list, js_, settings_.stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND) return {};
  if (s != NATS_OK) throw natsError("consumer names of " + settings_.stream, s, jerr);
  std::vector<std::string> models;
  for (int i = 0; i < list->Count; ++i) {
    const std::string name = list->List[i];
    if (name.rfind(settings_.modelConsumerPrefix, 0) == 0) models.push_back(name.substr(settings_.modelConsumerPrefix.size()));
  }
  jsConsumerNamesList_Destroy(list);
  return models;
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

std::optional<NatsClient::Revisioned> NatsClient::getRevisioned(const std::string& key) {
  openBucket();
  kvEntry* e = nullptr;
  natsStatus s = kvStore_Get(&e, kv_, key.c_str());
  if (s == NATS_NOT_FOUND) return std::nullopt;
  if (s != NATS_OK) throw natsError("cannot read " + key, s);
  Revisioned r;
  const char* v = kvEntry_ValueString(e);
  r.value = v ? v : "";
  r.revision = kvEntry_Revision(e);
  kvEntry_Destroy(e);
  return r;
}

bool NatsClient::putIfRevision(const std::string& key, const std::string& value, uint64_t revision) {
  openBucket();
  uint64_t rev = 0;
  natsStatus s = revision == 0 ? kvStore_Create(&rev, kv_, key.c_str(), value.data(), static_cast<int>(value.size()))
                               : kvStore_Update(&rev, kv_, key.c_str(), value.data(), static_cast<int>(value.size()), revision);
  if (s == NATS_OK) return true;
  // A refused write (wrong last sequence, key exists) while connected is a conflict; anything else is an error.
  if (s == NATS_ERR && connected()) {
    return false;
  }
  throw natsError("cannot write " + key, s);
}

std::vector<std::string> NatsClient::keys(const std::string& prefix) {
  openBucket();
  kvKeysList list{nullptr, 0};
  natsStatus s = kvStore_Keys(&list, kv_, nullptr);
  if (s == NATS_NOT_FOUND) return {};
  if (s != NATS_OK) throw natsError("cannot list the keys of " + settings_.bucket, s);
  std::vector<std::string> out;
  for (int i = 0; i < list.Count; ++i)
    if (std::string(list.Keys[i]).rfind(prefix, 0) == 0) out.emplace_back(list.Keys[i]);
  kvKeysList_Destroy(&list);
  return out;
}

std::unique_ptr<QueueMessage> NatsClient::fetch(const std::string& consumer, const std::string& filter, int timeoutMs) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsSubscription* sub = nullptr;
  {
    std::lock_guard<std::mutex> lock(subsMutex_);
    auto it = subs_.find(consumer);
    if (it == subs_.end()) {
      const bool advisories = consumer == settings_.advisoryConsumer;
      jsSubOptions so;
      jsSubOptions_Init(&so);
      so.Stream = advisories ? settings_.advisoryStream.c_str() : settings_.stream.c_str();
      so.Consumer = consumer.c_str();
      natsStatus s = js_PullSubscribe(&sub, js_, filter.c_str(), consumer.c_str(), nullptr, &so, &jerr);
      if (s != NATS_OK) throw natsError("cannot bind to consumer " + consumer, s, jerr);
      it = subs_.emplace(consumer, sub).first;
    }
    sub = it->second;
  }
  natsMsgList list{nullptr, 0};
  natsStatus s = natsSubscription_Fetch(&list, sub, 1, timeoutMs, &jerr);
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

std::optional<std::pair<std::string, std::string>> NatsClient::streamMessage(const std::string& stream, uint64_t seq) {
  natsMsg* msg = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
    return std::nullopt;
  }
  if (s != NATS_OK) throw natsError("cannot read message " + std::to_string(seq) + " of " + stream, s, jerr);
  QueueMessage m(msg);
  return std::make_pair(m.subject(), m.data());
}

void NatsClient::deleteStreamMessage(const std::string& stream, uint64_t seq) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteMsg(js_, stream.c_str(), seq, nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSSequenceNotFoundErr || jerr == JSNoMessageFoundErr) {
    return;
  }
  if (s != NATS_OK) throw natsError("cannot delete message " + std::to_string(seq) + " of " + stream, s, jerr);
}

std::pair<uint64_t, uint64_t> NatsClient::consumerPending() {
  jsConsumerInfoList* list = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_Consumers(&list, js_, settings_.stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND) return {0, 0};
  if (s != NATS_OK) throw natsError("consumers of " + settings_.stream, s, jerr);
  std::pair<uint64_t, uint64_t> p{0, 0};
  for (int i = 0; i < list->Count; ++i) {
    p.first += list->List[i]->NumPending;
    p.second += static_cast<uint64_t>(list->List[i]->NumAckPending);
  }
  jsConsumerInfoList_Destroy(list);
  return p;
}

}  // namespace nephro::queue
