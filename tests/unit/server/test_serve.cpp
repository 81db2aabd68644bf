// nephro3d serve, end to end: the real server on a free loopback port, talked
// to over HTTP. Every route and alias, API keys, path confinement, upload
// limits, malformed requests, cancel, and kill -9 with a job in flight.
#include <QtTest>

#include <QCryptographicHash>
#include <QProcess>
#include <QRegularExpression>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "TestSupport.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kKey = "test-key-alice";
const std::string kBobKey = "test-key-bob";

std::string engine() { return std::string(NEPHRO3D_BINARY_DIR) + "/bin/nephro3d-engine"; }

std::string sha256(const std::string& bytes) {
  return QCryptographicHash::hash(QByteArray::fromStdString(bytes), QCryptographicHash::Sha256).toHex().toStdString();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json parse(const httplib::Result& r) {
  if (!r) return json();
  try {
    return json::parse(r->body);
  } catch (const std::exception&) {
    return json();
  }
}

// A 4xx/5xx answer of the contract: JSON {error, detail}.
bool isErrorJson(const httplib::Result& r, const std::string& code) {
  const json j = parse(r);
  return j.is_object() && j.value("error", "") == code && j.contains("detail") && !j.at("detail").get<std::string>().empty();
}

struct Server {
  std::unique_ptr<QProcess> proc;
  int port = 0;
  std::string output;

  bool start(const QStringList& args) {
    port = 0;
    output.clear();
    proc = std::make_unique<QProcess>();
    proc->setProcessChannelMode(QProcess::SeparateChannels);
    proc->start(QString::fromStdString(engine()), QStringList{"serve", "--listen", "127.0.0.1:0"} + args);
    if (!proc->waitForStarted(10000)) return false;
    static const QRegularExpression re("listening on https?://127\\.0\\.0\\.1:(\\d+)");
    for (int i = 0; i < 600 && port == 0; ++i) {  // bounded: 60 s
      if (proc->state() != QProcess::Running) break;
      proc->waitForReadyRead(100);
      output += proc->readAllStandardOutput().toStdString();
      const auto m = re.match(QString::fromStdString(output));
      if (m.hasMatch()) port = m.captured(1).toInt();
    }
    return port != 0;
  }
  void kill9() {
    proc->kill();  // SIGKILL
    proc->waitForFinished(10000);
  }
  int terminate() {
    proc->terminate();  // SIGTERM: drain and stop
    proc->waitForFinished(20000);
    return proc->exitStatus() == QProcess::NormalExit ? proc->exitCode() : -1;
  }
  ~Server() {
    if (proc && proc->state() == QProcess::Running) kill9();
  }
};

}  // namespace

class ServeTest : public QObject {
  Q_OBJECT

  std::string dir_, data_, spool_, keys_;
  Server server_;
  std::unique_ptr<httplib::Client> cli_;
  httplib::Headers auth_{{"X-API-Key", kKey}};

  QStringList serverArgs() const {
    return {"--api-keys", QString::fromStdString(keys_), "--data-root", QString::fromStdString(data_), "--spool",
            QString::fromStdString(spool_), "--max-upload-mb", "3"};
  }
  void connect() {
    cli_ = std::make_unique<httplib::Client>("127.0.0.1", server_.port);
    cli_->set_read_timeout(120, 0);
    cli_->set_connection_timeout(5, 0);
  }
  json job(const std::string& id) { return parse(cli_->Get(("/v1/jobs/" + id).c_str(), auth_)); }
  // Polls (bounded) until `pred` holds for the job; returns the last state seen.
  json pollJob(const std::string& id, const std::function<bool(const json&)>& pred, int seconds = 60) {
    json j;
    for (int i = 0; i < seconds * 50; ++i) {
      j = job(id);
      if (j.is_object() && pred(j)) return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return j;
  }
  static bool isFinal(const json& j) {
    const std::string s = j.value("state", "");
    return s == "succeeded" || s == "failed" || s == "cancelled";
  }
  httplib::MultipartFormDataItems maskParts() const {
    return {{"mask", readFile(data_ + "/ph/phantom_labels.nii.gz"), "phantom_labels.nii.gz", "application/octet-stream"},
            {"labels", readFile(data_ + "/ph/phantom_labels.json"), "phantom_labels.json", "application/json"}};
  }
  // Every artifact downloads whole: its bytes and sha256 are those listed.
  void checkArtifacts(const json& j) {
    QVERIFY(!j.at("artifacts").empty());
    for (const auto& a : j.at("artifacts")) {
      auto r = cli_->Get(a.at("url").get<std::string>().c_str(), auth_);
      QVERIFY(r);
      QCOMPARE(r->status, 200);
      QCOMPARE(uint64_t(r->body.size()), a.at("bytes").get<uint64_t>());
      QCOMPARE(sha256(r->body), a.at("sha256").get<std::string>());
    }
  }

 private slots:
  void initTestCase() {
    dir_ = nephro::test::scratchDir("serve");
    data_ = dir_ + "/data";
    spool_ = dir_ + "/spool";
    keys_ = dir_ + "/keys";
    fs::create_directories(data_);
    QProcess phantom;
    phantom.start(QString::fromStdString(engine()), {"phantom", "--out", QString::fromStdString(data_ + "/ph"), "-q"});
    QVERIFY(phantom.waitForFinished(120000));
    QCOMPARE(phantom.exitCode(), 0);
    // The keys file: a line made by --hash-key, comments, a second key.
    QProcess hash;
    hash.start(QString::fromStdString(engine()), {"serve", "--hash-key", "--key-name", "alice"});
    QVERIFY(hash.waitForStarted(10000));
    hash.write(QByteArray::fromStdString(kKey + "\n"));
    hash.closeWriteChannel();
    QVERIFY(hash.waitForFinished(30000));
    const std::string line = hash.readAllStandardOutput().toStdString();
    QCOMPARE(line, "alice " + sha256(kKey) + "\n");
    std::ofstream(keys_) << "# Nephro3D API keys\n" << line << "bob " << sha256(kBobKey) << "   # second client\n\n";
    // Things outside the data root that a request will try to reach.
    fs::create_directories(dir_ + "/outside");
    fs::copy_file(data_ + "/ph/phantom_labels.nii.gz", dir_ + "/outside/secret.nii.gz");
    fs::create_directory_symlink(dir_ + "/outside", data_ + "/escape");
    fs::create_symlink(dir_ + "/outside/secret.nii.gz", data_ + "/link.nii.gz");

    if (!server_.start(serverArgs())) {
      std::fprintf(stderr, "SKIP: nephro3d serve did not start on a loopback port: %s\n", server_.output.c_str());
      std::exit(77);
    }
    connect();
  }

  void healthNeedsNoKey() {
    auto live = cli_->Get("/health/live");
    QVERIFY(live);
    QCOMPARE(live->status, 200);
    auto ready = cli_->Get("/health/ready");
    QCOMPARE(ready->status, 200);
    QCOMPARE(parse(ready).value("status", ""), std::string("ready"));
  }

  void keys() {
    for (const char* route : {"/v1/models", "/metrics", "/v1/jobs/0123456789abcdef0123456789abcdef"}) {
      auto none = cli_->Get(route);
      QCOMPARE(none->status, 401);
      QVERIFY(isErrorJson(none, "unauthorized"));
      auto wrong = cli_->Get(route, httplib::Headers{{"Authorization", "Bearer not-a-key"}});
      QCOMPARE(wrong->status, 403);
      QVERIFY(isErrorJson(wrong, "forbidden"));
    }
    QCOMPARE(cli_->Get("/v1/models", httplib::Headers{{"Authorization", "Bearer " + kBobKey}})->status, 200);
    QCOMPARE(cli_->Get("/v1/models", auth_)->status, 200);
    // A job submitted without a key is refused before anything is spooled.
    auto post = cli_->Post("/smoothing/base", maskParts());
    QCOMPARE(post->status, 401);
  }

  void models() {
    const json j = parse(cli_->Get("/v1/models", auth_));
    QCOMPARE(j.value("device", ""), std::string("cpu"));
    bool sawVessel = false;
    for (const auto& m : j.at("models")) {
      if (m.at("id") != "vessel") continue;
      sawVessel = true;
      QCOMPARE(m.at("sha256").get<std::string>(), sha256(readFile(std::string(NEPHRO3D_SOURCE_DIR) + "/models/demo/vessel/fold_0/model.pt")));
      QCOMPARE(m.at("required_phases"), json({"A", "P"}));
      QVERIFY(m.at("memory_estimate_bytes").get<double>() > 0);
      QVERIFY(!m.at("version").get<std::string>().empty());
      bool artery = false;
      for (const auto& l : m.at("labels")) artery = artery || l.at("name") == "artery";
      QVERIFY(artery);
    }
    QVERIFY(sawVessel);
  }

  void smoothingAliasWaits() {
    auto r = cli_->Post("/smoothing/base?wait=90&formats=obj,stl", auth_, maskParts());
    QVERIFY(r);
    QCOMPARE(r->status, 200);
    const json j = parse(r);
    QCOMPARE(j.value("state", ""), std::string("succeeded"));
    QCOMPARE(r->get_header_value("Location"), "/v1/jobs/" + j.at("id").get<std::string>());
    std::set<std::string> names;
    for (const auto& a : j.at("artifacts")) names.insert(a.at("name"));
    QVERIFY(names.count("meshes/mask/kidney_left.obj"));
    QVERIFY(names.count("meshes/mask/kidney_left.stl"));
    QVERIFY(names.count("provenance.json"));
    checkArtifacts(j);
    // The listing route, and a mesh that says its coordinate space.
    const json list = parse(cli_->Get(("/v1/jobs/" + j.at("id").get<std::string>() + "/artifacts").c_str(), auth_));
    QCOMPARE(list.at("artifacts").size(), j.at("artifacts").size());
    auto obj = cli_->Get(("/v1/jobs/" + j.at("id").get<std::string>() + "/artifacts/meshes/mask/kidney_left.obj").c_str(), auth_);
    QVERIFY(obj->body.find("LPS") != std::string::npos);
    // Names are looked up, never joined into a path.
    for (const char* name : {"../job.json", "..%2Fjob.json", "meshes/../../job.json", "inputs/mask.nii.gz"}) {
      auto bad = cli_->Get(("/v1/jobs/" + j.at("id").get<std::string>() + "/artifacts/" + name).c_str(), auth_);
      QCOMPARE(bad->status, 404);
    }
  }

  void postprocessAliasAndJsonJob() {
    auto r = cli_->Post("/postprocess/fat?wait=90&distance-mm=15", auth_, maskParts());
    QCOMPARE(r->status, 200);
    const json j = parse(r);
    bool fat = false;
    for (const auto& a : j.at("artifacts")) fat = fat || a.at("name") == "post_fat.nii.gz";
    QVERIFY(fat);
    // A JSON job naming files under the data root (the mask's label table is found beside it).
    auto s = cli_->Post("/v1/jobs", auth_, R"({"inputs": {"mask": "ph/phantom_labels.nii.gz"}, "mesh": {"formats": ["ply"]}})",
                        "application/json");
    QCOMPARE(s->status, 202);
    const std::string id = parse(s).at("id");
    QCOMPARE(s->get_header_value("Location"), "/v1/jobs/" + id);
    const json done = pollJob(id, isFinal);
    QCOMPARE(done.value("state", ""), std::string("succeeded"));
    QCOMPARE(done.value("attempts", 0), 2);  // mesh, report
    checkArtifacts(done);
  }

  void multipartJob() {
    httplib::MultipartFormDataItems parts = maskParts();
    parts.push_back({"pipeline", R"({"mesh": {"formats": ["stl"], "space": "RAS"}})", "", "application/json"});
    auto r = cli_->Post("/v1/jobs", auth_, parts);
    QCOMPARE(r->status, 202);
    const json done = pollJob(parse(r).at("id"), isFinal);
    QCOMPARE(done.value("state", ""), std::string("succeeded"));
    std::set<std::string> names;
    for (const auto& a : done.at("artifacts")) names.insert(a.at("name"));
    QVERIFY(names.count("meshes/mask/kidney_left.stl"));
    // Uploaded jobs cannot name server paths.
    httplib::MultipartFormDataItems withPaths = maskParts();
    withPaths.push_back({"pipeline", R"({"inputs": {"A": "ph/phantom_A.nii.gz"}, "mesh": {}})", "", "application/json"});
    auto bad = cli_->Post("/v1/jobs", auth_, withPaths);
    QCOMPARE(bad->status, 400);
    QVERIFY(isErrorJson(bad, "bad_request"));
  }

  void idempotencyKey() {
    httplib::Headers h = auth_;
    h.emplace("Idempotency-Key", "retry-42");
    const char* body = R"({"inputs": {"mask": "ph/phantom_labels.nii.gz"}, "mesh": {}})";
    auto a = cli_->Post("/v1/jobs", h, body, "application/json");
    auto b = cli_->Post("/v1/jobs", h, body, "application/json");
    QCOMPARE(a->status, 202);
    QCOMPARE(b->status, 202);
    QCOMPARE(parse(a).at("id"), parse(b).at("id"));
    QCOMPARE(b->get_header_value("Idempotent-Replayed"), std::string("true"));
    // Another client's same key is another job.
    httplib::Headers hb{{"X-API-Key", kBobKey}, {"Idempotency-Key", "retry-42"}};
    auto c = cli_->Post("/v1/jobs", hb, body, "application/json");
    QVERIFY(parse(c).at("id") != parse(a).at("id"));
    pollJob(parse(c).at("id"), isFinal);
    pollJob(parse(a).at("id"), isFinal);
  }

  void pathsStayInsideTheDataRoot() {
    const std::pair<const char*, const char*> cases[] = {
        {"../outside/secret.nii.gz", "path_outside_data_root"},
        {"ph/../../outside/secret.nii.gz", "path_outside_data_root"},
        {"/etc/hostname", "path_outside_data_root"},
        {"escape/secret.nii.gz", "path_outside_data_root"},  // a folder symlink that leaves the root
        {"link.nii.gz", "path_outside_data_root"},           // a file symlink that leaves the root
        {"ph/nothing.nii.gz", "input_not_found"},
        {"ph/evil.mhd", "bad_request"},
    };
    for (const auto& [path, code] : cases) {
      const json body{{"inputs", {{"mask", path}}}, {"mesh", json::object()}};
      auto r = cli_->Post("/v1/jobs", auth_, body.dump(), "application/json");
      QVERIFY2(isErrorJson(r, code), (std::string(path) + " -> " + (r ? r->body : "no answer")).c_str());
      QVERIFY(r->status == 403 || r->status == 404 || r->status == 400);
    }
  }

  void malformedRequests() {
    struct Case {
      const char* body;
      int status;
      const char* code;
    } cases[] = {
        {"{not json", 400, "bad_request"},
        {R"({"inputs": {"A": "ph/phantom_A.nii.gz"}, "models": ["nosuch"]})", 400, "unknown_model"},
        {R"({"inputs": {"mask": "ph/phantom_labels.nii.gz"}, "post": ["smooth"]})", 400, "unknown_step"},
        {R"({"inputs": {"D": "ph/phantom_D.nii.gz"}, "models": ["vessel"]})", 422, "missing_phases"},
        {R"({"models": ["vessel"]})", 422, "missing_phases"},
        {R"({"inputs": {"mask": "ph/phantom_labels.json"}, "mesh": {}})", 422, "bad_input"},
        {R"({"inputs": {"mask": "ph/phantom_labels.nii.gz"}, "mesh": {"formats": ["dwg"]}})", 400, "bad_request"},
    };
    for (const auto& c : cases) {
      auto r = cli_->Post("/v1/jobs", auth_, c.body, "application/json");
      QVERIFY2(r && r->status == c.status && isErrorJson(r, c.code), (std::string(c.body) + " -> " + (r ? r->body : "")).c_str());
    }
    auto text = cli_->Post("/v1/jobs", auth_, "models=vessel", "text/plain");
    QCOMPARE(text->status, 415);
    // Aliases: unknown model or step, phases the model lacks, a truncated upload.
    auto model = cli_->Post("/nnunet/inference/nosuch", auth_, maskParts());
    QCOMPARE(model->status, 404);
    QVERIFY(isErrorJson(model, "unknown_model"));
    auto step = cli_->Post("/postprocess/smooth", auth_, maskParts());
    QCOMPARE(step->status, 404);
    QVERIFY(isErrorJson(step, "unknown_step"));
    httplib::MultipartFormDataItems dOnly{{"D", readFile(data_ + "/ph/phantom_D.nii.gz"), "case_D.nii.gz", "application/octet-stream"}};
    auto phases = cli_->Post("/nnunet/inference/vessel", auth_, dOnly);
    QCOMPARE(phases->status, 422);
    QVERIFY(isErrorJson(phases, "missing_phases"));
    httplib::MultipartFormDataItems truncated{{"mask", readFile(data_ + "/ph/phantom_labels.nii.gz").substr(0, 5000), "m.nii.gz", ""}};
    auto cut = cli_->Post("/smoothing/base", auth_, truncated);
    QCOMPARE(cut->status, 422);
    QVERIFY(isErrorJson(cut, "bad_input"));
    auto unknownPart = cli_->Post("/smoothing/base", auth_, httplib::MultipartFormDataItems{{"evil", "x", "x.txt", ""}});
    QCOMPARE(unknownPart->status, 400);
    QCOMPARE(cli_->Get("/v1/jobs/../../etc/passwd", auth_)->status, 404);
    QCOMPARE(cli_->Get("/v1/jobs/0123456789abcdef0123456789abcdef", auth_)->status, 404);
    // The server keeps serving, and nothing half-uploaded stays in the spool.
    QCOMPARE(cli_->Get("/health/live")->status, 200);
    for (const auto& e : fs::directory_iterator(spool_ + "/jobs")) QVERIFY(fs::exists(e.path() / "job.json"));
  }

  void oversizedUpload() {
    httplib::MultipartFormDataItems big{{"mask", std::string(4u << 20, 'x'), "big.nii.gz", "application/octet-stream"}};
    auto r = cli_->Post("/smoothing/base", auth_, big);
    QVERIFY(r);
    QCOMPARE(r->status, 413);
    QVERIFY(isErrorJson(r, "too_large"));
    QCOMPARE(cli_->Get("/health/live")->status, 200);
  }

  void cancelARunningModel() {
    // A model job through the alias without waiting: 202 and the job.
    httplib::MultipartFormDataItems p{{"P", readFile(data_ + "/ph/phantom_P.nii.gz"), "case_P.nii.gz", "application/octet-stream"}};
    auto r = cli_->Post("/nnunet/inference/tumor", auth_, p);
    QCOMPARE(r->status, 202);
    const std::string id = parse(r).at("id");
    const json running = pollJob(id, [](const json& j) { return j.value("state", "") == "running"; });
    QCOMPARE(running.value("state", ""), std::string("running"));
    QCOMPARE(running.value("stage", ""), std::string("model tumor"));
    const auto t0 = std::chrono::steady_clock::now();
    auto del = cli_->Delete(("/v1/jobs/" + id).c_str(), auth_);
    QVERIFY(del->status == 200 || del->status == 202);
    const json done = pollJob(id, isFinal, 30);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    QCOMPARE(done.value("state", ""), std::string("cancelled"));
    qInfo("cancel of a running model: %.2f s from DELETE to the cancelled state", seconds);
    QVERIFY(!fs::exists(spool_ + "/jobs/" + id + "/stages/00-model-tumor"));
    QCOMPARE(cli_->Delete(("/v1/jobs/" + id).c_str(), auth_)->status, 409);
  }

  void metrics() {
    auto r = cli_->Get("/metrics", auth_);
    QCOMPARE(r->status, 200);
    const std::string& m = r->body;
    for (const char* name : {"nephro3d_http_requests_total", "nephro3d_http_request_duration_seconds_bucket",
                             "nephro3d_jobs_total", "nephro3d_job_duration_seconds_bucket", "nephro3d_queue_wait_seconds_bucket",
                             "nephro3d_stage_duration_seconds_bucket", "nephro3d_queue_pending", "nephro3d_models_loaded",
                             "nephro3d_model_switches_total", "nephro3d_cpu_fallback_total", "nephro3d_job_retries_total"})
      QVERIFY2(m.find(std::string("\n") + name) != std::string::npos, name);
    QVERIFY(m.find("# TYPE nephro3d_stage_duration_seconds histogram") != std::string::npos);
    QVERIFY(m.find("route=\"POST /smoothing/base\",code=\"200\"") != std::string::npos);
    QVERIFY(m.find("route=\"GET /v1/jobs/{id}\"") != std::string::npos);
    QVERIFY(m.find("stage=\"mesh\",model=\"-\",device=\"cpu\"") != std::string::npos);
    QVERIFY(m.find("nephro3d_jobs_total{status=\"cancelled\"} 1") != std::string::npos);
    // The text exposition format: every sample line is NAME{LABELS} VALUE, every family typed first.
    static const std::regex sample(
        "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})? (-?[0-9.eE+-]+|\\+Inf|NaN)$");
    std::set<std::string> typed;
    std::istringstream lines(m);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
      if (line.empty() || line[0] == '#') continue;
      std::smatch match;
      QVERIFY2(std::regex_match(line, match, sample), line.c_str());
      std::string family = match[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"})
        if (!typed.count(family) && family.size() > strlen(suffix) && family.compare(family.size() - strlen(suffix), strlen(suffix), suffix) == 0)
          family.erase(family.size() - strlen(suffix));
      QVERIFY2(typed.count(family), line.c_str());
    }
    // No job id (32 hex digits) and no file name in any label.
    QVERIFY(!std::regex_search(m, std::regex("[0-9a-f]{32}")));
    QVERIFY(m.find(".nii") == std::string::npos);
  }

  void killNineWithAJobInFlight() {
    auto s = cli_->Post("/v1/jobs", auth_,
                        R"({"inputs": {"mask": "ph/phantom_labels.nii.gz"}, "post": ["fat"], "mesh": {"formats": ["obj", "stl", "ply"]}})",
                        "application/json");
    QCOMPARE(s->status, 202);
    const std::string id = parse(s).at("id");
    const json running = pollJob(id, [](const json& j) { return j.value("state", "") == "running"; });
    QCOMPARE(running.value("state", ""), std::string("running"));
    server_.kill9();
    // Whatever the kill left: never a file where a finished stage's folder should be whole.
    QVERIFY(server_.start(serverArgs()));
    connect();
    QVERIFY(server_.output.find("1 unfinished job(s) resumed") != std::string::npos);
    const json done = pollJob(id, isFinal);
    QCOMPARE(done.value("state", ""), std::string("succeeded"));
    QVERIFY(done.value("attempts", 0) >= 3);
    checkArtifacts(done);
    // Completed once: each stage folder once, no attempt left, one provenance.
    int stages = 0;
    for (const auto& e : fs::directory_iterator(spool_ + "/jobs/" + id + "/stages")) stages += e.is_directory();
    QCOMPARE(stages, 3);  // post fat, mesh, report
    QVERIFY(!fs::exists(spool_ + "/jobs/" + id + "/work"));
    int provenance = 0;
    for (const auto& a : done.at("artifacts")) provenance += a.at("name") == "provenance.json";
    QCOMPARE(provenance, 1);
    const std::string m = cli_->Get("/metrics", auth_)->body;
    QVERIFY(m.find("nephro3d_jobs_total{status=\"succeeded\"} 1\n") != std::string::npos);
  }

  void tls() {
    const std::string cert = dir_ + "/cert.pem", key = dir_ + "/key.pem";
    QProcess openssl;
    openssl.start("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", QString::fromStdString(key), "-out",
                              QString::fromStdString(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                              "subjectAltName=IP:127.0.0.1"});
    if (!openssl.waitForFinished(60000) || openssl.exitCode() != 0) QSKIP("the openssl command is not available to make a certificate");
    Server https;
    QVERIFY(https.start({"--api-keys", QString::fromStdString(keys_), "--spool", QString::fromStdString(dir_ + "/spool-tls"),
                         "--tls-cert", QString::fromStdString(cert), "--tls-key", QString::fromStdString(key)}));
    QVERIFY(https.output.find("listening on https://") != std::string::npos);
    httplib::SSLClient c("127.0.0.1", https.port);
    c.set_ca_cert_path(cert.c_str());
    c.enable_server_certificate_verification(true);
    auto live = c.Get("/health/live");
    QVERIFY(live);
    QCOMPARE(live->status, 200);
    QCOMPARE(c.Get("/v1/models")->status, 401);
    QCOMPARE(c.Get("/v1/models", auth_)->status, 200);
    // Plain HTTP to the TLS port gets no answer.
    httplib::Client plain("127.0.0.1", https.port);
    plain.set_read_timeout(5, 0);
    auto r = plain.Get("/health/live");
    QVERIFY(!r || r->status != 200);
    QCOMPARE(https.terminate(), 0);
  }

  void badKeysFileIsAnInputError() {
    const std::string bad = dir_ + "/bad-keys";
    std::ofstream(bad) << "alice not-a-hash\n";
    QProcess p;
    p.start(QString::fromStdString(engine()), {"serve", "--listen", "127.0.0.1:0", "--api-keys", QString::fromStdString(bad),
                                               "--spool", QString::fromStdString(dir_ + "/spool2")});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 3);
    const QString err = p.readAllStandardError();
    QVERIFY2(err.contains("bad-keys") && err.contains("line 1") && err.count('\n') == 1, qPrintable(err));
  }

  void cleanupTestCase() {
    if (server_.proc && server_.proc->state() == QProcess::Running) QCOMPARE(server_.terminate(), 0);
  }
};

QTEST_GUILESS_MAIN(ServeTest)
#include "test_serve.moc"
