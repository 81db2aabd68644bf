// Job routes of the HTTP service: submission (JSON or streamed multipart), the
// aliases of the old endpoints, job state, artifacts and cancel.
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <httplib.h>

#include "common/Error.h"
#include "inference/ModelRegistry.h"
#include "jobs/Sha256.h"
#include "server/HttpService.h"
#include "server/PathGuard.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::server {
namespace {

constexpr size_t kMaxJsonBytes = 1 << 20;

void sendError(httplib::Response& res, int status, const std::string& code, const std::string& detail) {
  res.status = status;
  res.set_content(errorBody(code, detail), "application/json");
}

void sendError(httplib::Response& res, const jobs::RequestError& e) { sendError(res, statusForCode(e.code()), e.code(), e.what()); }

void sendJob(httplib::Response& res, int status, const jobs::JobRecord& r) {
  res.status = status;
  res.set_content(jobs::publicJson(r).dump(1) + "\n", "application/json");
}

bool endsWith(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

// The file name an uploaded part is stored under: the part's name and the
// extension of the client's file name, when it is one the readers accept.
std::string storedName(const std::string& part, const std::string& clientFile) {
  if (part == "labels") return "mask.json";
  static const char* exts[] = {".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".mha"};
  for (const char* e : exts)
    if (endsWith(clientFile, e)) return part + e;
  if (clientFile.empty() || clientFile.find('.') == std::string::npos) return part + ".nii.gz";
  throw jobs::RequestError("bad_request", "part " + part + ": file \"" + fs::path(clientFile).filename().string() +
                                              "\" is not NIfTI (.nii, .nii.gz), NRRD (.nrrd, .seg.nrrd) or MetaImage (.mha)");
}

// A multipart upload streamed into the job's input folder.
struct Upload {
  std::string dir;
  uint64_t limit = 0;
  uint64_t total = 0;
  std::map<std::string, std::string> files;  // part -> stored path
  std::string pipeline;
  std::string currentPart;
  std::unique_ptr<FILE, int (*)(FILE*)> file{nullptr, &std::fclose};
  std::string error, errorCode;
  bool tooLarge = false;

  bool beginPart(const httplib::MultipartFormData& part) {
    if (!closePart()) return false;
    static const std::set<std::string> known{"A", "P", "D", "mask", "labels", "pipeline"};
    currentPart = part.name;
    if (!known.count(part.name)) return fail("bad_request", "unknown part \"" + part.name + "\" (A, P, D, mask, labels, pipeline)");
    if (part.name == "pipeline") return true;
    if (files.count(part.name)) return fail("bad_request", "part " + part.name + " is sent twice");
    std::string name;
    try {
      name = storedName(part.name, part.filename);
    } catch (const jobs::RequestError& e) {
      return fail(e.code(), e.what());
    }
    const std::string path = (fs::path(dir) / name).string();
    file.reset(std::fopen((path + ".part").c_str(), "wb"));
    if (!file) return fail("internal", "cannot write to the spool");
    files[part.name] = path;
    return true;
  }
  bool data(const char* bytes, size_t n) {
    total += n;
    if (total > limit) {
      tooLarge = true;
      return fail("too_large", "the upload is larger than --max-upload-mb");
    }
    if (currentPart == "pipeline") {
      if (pipeline.size() + n > kMaxJsonBytes) return fail("too_large", "the pipeline part is larger than 1 MiB");
      pipeline.append(bytes, n);
      return true;
    }
    if (!file) return true;
    if (std::fwrite(bytes, 1, n, file.get()) != n) return fail("internal", "cannot write to the spool");
    return true;
  }
  bool closePart() {
    if (file && std::fclose(file.release()) != 0) return fail("internal", "cannot write to the spool");
    return true;
  }
  bool fail(const std::string& code, const std::string& detail) {
    if (error.empty()) errorCode = code, error = detail;
    file.reset();
    return false;
  }
  // Whole parts get their final names only now.
  void commit() {
    for (const auto& [part, path] : files)
      if (::rename((path + ".part").c_str(), path.c_str()) != 0) throw outputError(path, "cannot be moved into place");
  }
};

double waitSeconds(const httplib::Request& req) {
  if (!req.has_param("wait")) return 0;
  try {
    return std::clamp(std::stod(req.get_param_value("wait")), 0.0, 300.0);
  } catch (const std::exception&) {
    throw jobs::RequestError("bad_request", "wait must be a number of seconds");
  }
}

}  // namespace

void HttpService::submit(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                         const std::string& kind, const std::string& aliasArgument) {
  if (draining_) {
    res.set_header("Connection", "close");
    return sendError(res, 503, "draining", "the server is shutting down");
  }
  std::string idempotency;
  if (req.has_header("Idempotency-Key")) {
    const std::string key = req.get_header_value("Idempotency-Key");
    if (key.empty() || key.size() > 200) return sendError(res, 400, "bad_request", "Idempotency-Key must be 1 to 200 characters");
    idempotency = jobs::sha256Hex(currentKeyName() + "\n" + key);
  }
  const std::string id = spool_.newJobId();
  bool keep = false;
  struct Cleanup {
    jobs::Spool& spool;
    const std::string& id;
    bool& keep;
    ~Cleanup() {
      if (!keep) spool.removeJob(id);
    }
  } cleanup{spool_, id, keep};

  try {
    const double wait = waitSeconds(req);
    json body;
    jobs::JobSpec spec;
    const bool multipart = req.is_multipart_form_data();
    if (multipart) {
      Upload up;
      up.dir = spool_.inputsDir(id);
      up.limit = options_.maxUploadBytes;
      const bool ok = reader([&](const httplib::MultipartFormData& part) { return up.beginPart(part); },
                             [&](const char* data, size_t n) { return up.data(data, n); });
      if (ok) up.closePart();
      if (!ok || !up.error.empty()) {
        res.set_header("Connection", "close");
        if (up.tooLarge || res.status == 413) return sendError(res, 413, "too_large", "the upload is larger than --max-upload-mb");
        if (!up.error.empty()) return sendError(res, statusForCode(up.errorCode), up.errorCode, up.error);
        return sendError(res, 400, "bad_request", "the multipart body is malformed or was cut short");
      }
      up.commit();
      if (!up.pipeline.empty()) {
        try {
          body = json::parse(up.pipeline);
        } catch (const json::exception& e) {
          return sendError(res, 400, "bad_request", std::string("part pipeline is not valid JSON: ") + e.what());
        }
      } else {
        body = json::object();
      }
      if (kind == "job") {
        spec = jobs::parseJobSpec(body, false);
      }
      for (const auto& [part, path] : up.files) spec.inputs[part] = path;
    } else {
      const std::string type = req.get_header_value("Content-Type");
      if (kind != "job") return sendError(res, 415, "unsupported_media_type", "this route takes multipart/form-data");
      if (type.rfind("application/json", 0) != 0)
        return sendError(res, 415, "unsupported_media_type", "send application/json or multipart/form-data");
      std::string text;
      bool tooLarge = false;
      const bool ok = reader([&](const char* data, size_t n) {
        if (text.size() + n > kMaxJsonBytes) {
          tooLarge = true;
          return false;
        }
        text.append(data, n);
        return true;
      });
      if (!ok) {
        res.set_header("Connection", "close");
        if (tooLarge || res.status == 413) return sendError(res, 413, "too_large", "a JSON job body is limited to 1 MiB");
        return sendError(res, 400, "bad_request", "the body was cut short");
      }
      try {
        body = json::parse(text);
      } catch (const json::exception& e) {
        return sendError(res, 400, "bad_request", std::string("the body is not valid JSON: ") + e.what());
      }
      spec = jobs::parseJobSpec(body, true);
      if (spec.inputs.empty()) return sendError(res, 422, "missing_phases", "\"inputs\" names no file");
      if (options_.dataRoot.empty())
        return sendError(res, 403, "path_outside_data_root", "this server has no --data-root: send the files as multipart parts");
      for (auto& [key, path] : spec.inputs) path = confinePath(options_.dataRoot, path);
      // A mask's label table next to it must also lie inside the root.
      if (spec.inputs.count("mask") && !spec.inputs.count("labels") && LabelTable::hasSidecar(spec.inputs.at("mask"))) {
        const std::string side = LabelTable::sidecarPath(spec.inputs.at("mask"));
        spec.inputs["labels"] = confinePath(options_.dataRoot, fs::relative(side, options_.dataRoot).string());
      }
    }

    // The aliases: the pipeline comes from the route and the query.
    if (kind == "nnunet/inference") {
      spec.models = {aliasArgument};
    } else if (kind == "smoothing/base") {
      spec.mesh = true;
      if (req.has_param("formats")) {
        spec.meshFormats.clear();
        std::stringstream ss(req.get_param_value("formats"));
        for (std::string f; std::getline(ss, f, ',');)
          if (!f.empty()) spec.meshFormats.push_back(f);
      }
      if (req.has_param("space")) spec.meshSpace = req.get_param_value("space");
      json check = jobs::toJson(spec);
      check.erase("inputs");
      jobs::parseJobSpec(check, false);  // formats and space checked like a pipeline
    } else if (kind == "postprocess") {
      spec.post = {aliasArgument};
      for (const auto& [key, value] : req.params)
        if (key != "wait") spec.params[aliasArgument + "." + key] = value;
      spec.postRequests();
    }
    if (kind == "smoothing/base" || kind == "postprocess") {
      if (!spec.hasMask()) return sendError(res, 422, "missing_phases", "this route needs a part named mask");
    }

    jobs::validateJobSpec(spec, options_.modelsDirectory);
    jobs::JobRecord record;
    record.id = id;
    record.kind = kind;
    record.client = currentKeyName();
    record.idempotency = idempotency;
    record.spec = spec;
    bool created = false;
    jobs::JobRecord r = scheduler_.submit(record, &created);
    keep = created;
    if (!created) res.set_header("Idempotent-Replayed", "true");
    res.set_header("Location", "/v1/jobs/" + r.id);
    // Waiting holds a handler thread: keep enough of them free for health checks and polls.
    if (wait > 0 && waiters_.fetch_add(1) < options_.httpThreads - 8) {
      r = scheduler_.waitFor(r.id, wait).value_or(r);
      waiters_.fetch_sub(1);
      if (r.state == jobs::JobState::Succeeded) return sendJob(res, 200, r);
      if (jobs::isFinal(r.state)) {
        res.status = 422;
        res.set_content(json{{"error", r.state == jobs::JobState::Failed ? "job_failed" : "job_cancelled"},
                             {"detail", r.error},
                             {"job", jobs::publicJson(r)}}.dump(1) + "\n",
                        "application/json");
        return;
      }
    } else if (wait > 0) {
      waiters_.fetch_sub(1);
    }
    sendJob(res, 202, r);
  } catch (const jobs::RequestError& e) {
    sendError(res, e);
  } catch (const Error& e) {
    const int status = e.kind() == ErrorKind::Input ? 422 : e.kind() == ErrorKind::Usage ? 400 : 500;
    sendError(res, status, status == 422 ? "bad_input" : status == 400 ? "bad_request" : "internal", e.what());
  }
}

void HttpService::jobRoutes() {
  httplib::Server& s = *server_;
  s.Post("/v1/jobs", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    submit(req, res, reader, "job", {});
  });
  s.Post(R"(/nnunet/inference/([^/]+))", [this](const httplib::Request& req, httplib::Response& res,
                                                  const httplib::ContentReader& reader) {
    const std::string model = req.matches[1];
    try {
      inference::findManifest(model, options_.modelsDirectory);
    } catch (const Error& e) {
      res.set_header("Connection", "close");
      return sendError(res, 404, "unknown_model", e.what());
    }
    submit(req, res, reader, "nnunet/inference", model);
  });
  s.Post("/smoothing/base", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    submit(req, res, reader, "smoothing/base", {});
  });
  s.Post(R"(/postprocess/([^/]+))", [this](const httplib::Request& req, httplib::Response& res,
                                             const httplib::ContentReader& reader) {
    const std::string step = req.matches[1];
    if (!post::postStepFromId(step)) {
      res.set_header("Connection", "close");
      return sendError(res, 404, "unknown_step", "unknown post-processing step \"" + step + "\" (fat, sample, vessel, ureter)");
    }
    submit(req, res, reader, "postprocess", step);
  });

  auto findJob = [this](const std::string& id, httplib::Response& res) -> std::optional<jobs::JobRecord> {
    std::optional<jobs::JobRecord> r;
    if (jobs::Spool::isJobId(id)) {
      if (shared_) {
        try {
          r = shared_->find(id);  // any server's job
        } catch (const Error&) {
          // the shared store is unreachable: this server's own jobs still answer
        }
      }
      if (!r) r = scheduler_.get(id);
    }
    if (!r) sendError(res, 404, "not_found", "no job " + id.substr(0, 64));
    return r;
  };
  // This key's jobs, newest first (?limit=N, default 100).
  s.Get("/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    size_t limit = 100;
    if (req.has_param("limit")) {
      try {
        limit = static_cast<size_t>(std::clamp(std::stol(req.get_param_value("limit")), 1L, 10000L));
      } catch (const std::exception&) {
        return sendError(res, 400, "bad_request", "limit must be a number");
      }
    }
    std::vector<jobs::JobRecord> all;
    try {
      all = shared_ ? shared_->list() : scheduler_.list();
    } catch (const Error& e) {
      return sendError(res, 503, "unavailable", e.what());
    }
    json list = json::array();
    for (auto it = all.rbegin(); it != all.rend() && list.size() < limit; ++it)
      if (it->client == currentKeyName()) list.push_back(jobs::publicJson(*it));
    res.set_content(json{{"jobs", list}}.dump(1) + "\n", "application/json");
  });
  s.Get(R"(/v1/jobs/([^/]+))", [findJob](const httplib::Request& req, httplib::Response& res) {
    if (auto r = findJob(req.matches[1], res)) sendJob(res, 200, *r);
  });
  s.Get(R"(/v1/jobs/([^/]+)/artifacts)", [findJob](const httplib::Request& req, httplib::Response& res) {
    auto r = findJob(req.matches[1], res);
    if (!r) return;
    const json j = jobs::publicJson(*r);
    res.set_content(json{{"id", r->id}, {"state", j.at("state")}, {"artifacts", j.at("artifacts")}}.dump(1) + "\n",
                    "application/json");
  });
  s.Get(R"(/v1/jobs/([^/]+)/artifacts/(.+))", [this, findJob](const httplib::Request& req, httplib::Response& res) {
    auto r = findJob(req.matches[1], res);
    if (!r) return;
    const std::string name = req.matches[2];
    const std::string path = spool_.artifactPath(*r, name);  // looked up in the record, never joined
    std::error_code ec;
    if (path.empty() || !fs::is_regular_file(path, ec))
      return sendError(res, 404, "not_found", "job " + r->id + " has no artifact with that name");
    const uint64_t size = fs::file_size(path, ec);
    std::string sha;
    for (const auto& a : r->artifacts)
      if (a.name == name) sha = a.sha256;
    std::string type = "application/octet-stream";
    if (endsWith(name, ".json")) type = "application/json";
    else if (endsWith(name, ".obj")) type = "text/plain";
    res.set_header("X-Checksum-SHA256", sha);
    res.set_header("Content-Disposition", "attachment; filename=\"" + fs::path(name).filename().string() + "\"");
    auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
    res.set_content_provider(static_cast<size_t>(size), type,
                             [in](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::vector<char> buf(std::min<size_t>(length, 1 << 16));
                               in->seekg(static_cast<std::streamoff>(offset));
                               in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                               const std::streamsize got = in->gcount();
                               if (got <= 0) return false;
                               return sink.write(buf.data(), static_cast<size_t>(got));
                             });
  });
  s.Delete(R"(/v1/jobs/([^/]+))", [this, findJob](const httplib::Request& req, httplib::Response& res) {
    auto r = findJob(req.matches[1], res);
    if (!r) return;
    if (shared_ && !scheduler_.get(r->id)) {  // run by another server: it sees the cancel in the shared record
      if (jobs::isFinal(r->state)) return sendError(res, 409, "conflict", "job " + r->id + " is already " + jobs::toString(r->state));
      std::optional<jobs::JobRecord> now;
      try {
        now = shared_->requestCancel(r->id);
      } catch (const Error& e) {
        return sendError(res, 503, "unavailable", e.what());
      }
      if (!now) return sendError(res, 404, "not_found", "no job " + r->id);
      if (now->state != jobs::JobState::Cancelled)
        return sendError(res, 409, "conflict", "job " + r->id + " is already " + jobs::toString(now->state));
      return sendJob(res, 200, *now);
    }
    switch (scheduler_.cancel(r->id)) {
      case jobs::Scheduler::CancelResult::NotFound: return sendError(res, 404, "not_found", "no job " + r->id);
      case jobs::Scheduler::CancelResult::AlreadyFinished:
        return sendError(res, 409, "conflict", "job " + r->id + " is already " + jobs::toString(r->state));
      case jobs::Scheduler::CancelResult::Cancelled: return sendJob(res, 200, *scheduler_.get(r->id));
      case jobs::Scheduler::CancelResult::Cancelling: {
        // The engine checks its cancel flag between tiles and steps: wait for it briefly.
        auto now = scheduler_.waitFor(r->id, 2.0);
        return sendJob(res, now && jobs::isFinal(now->state) ? 200 : 202, now.value_or(*r));
      }
    }
  });
}

}  // namespace nephro::server
