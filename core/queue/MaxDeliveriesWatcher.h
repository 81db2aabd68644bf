#pragma once
// The server side of a stage that ran out of deliveries without an answer: a
// worker killed (or cut off) during the stage's last delivery never acks nor
// dead-letters it, so JetStream stops redelivering and only raises a
// max-deliveries advisory. The advisory stream keeps those advisories; this
// watcher (one per `serve --queue`, all sharing one durable consumer, so each
// advisory is handled once) takes each one and:
//   - reads the stage message from the stage stream (gone: already handled);
//   - when the stage folder exists (the worker finished but died before
//     reporting), writes a "done" result, so the job goes on;
//   - otherwise copies the message to the dead-letter stream and writes a
//     "failed" result ("delivered N times without finishing"), which fails the
//     job through the server that runs it;
//   - removes the message from the stage stream, then acks the advisory.
// A result already in the bucket is never overwritten.
#include <atomic>
#include <string>
#include <thread>

#include "queue/NatsClient.h"

namespace nephro::queue {

class MaxDeliveriesWatcher {
 public:
  // `storageRoot`: the shared folder as mounted here (the server's spool root).
  MaxDeliveriesWatcher(NatsClient& client, std::string storageRoot);
  ~MaxDeliveriesWatcher();
  MaxDeliveriesWatcher(const MaxDeliveriesWatcher&) = delete;
  MaxDeliveriesWatcher& operator=(const MaxDeliveriesWatcher&) = delete;
  void start();
  void stop();
  // Handles one advisory (its JSON); returns a line for the log, empty when there was nothing to do.
  std::string handle(const std::string& advisory);

 private:
  NatsClient& client_;
  std::string storageRoot_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace nephro::queue
