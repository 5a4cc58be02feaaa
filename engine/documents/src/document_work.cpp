// Documents inside a step: <w:requires> holds a transition or a state's exit until the
// documents and signatures it names are there; <w:render> renders a template with the case's
// data after the macrostep, stores it and seals it.
#include "tramite/documents/document_work.h"

#include <algorithm>
#include <kainjow/mustache.hpp>
#include <set>

#include "tramite/audit/merkle.h"
#include "tramite/text.h"
#include "tramite/workflow/specs.h"
#include "tramite/workflow/vocabulary.h"

namespace tramite::documents {
namespace {

using audit::sha256Hex;
using step::kSystemActor;
using workflow::RequirementSpec;
using workflow::SignedBySpec;
using workflow::stringMember;

kainjow::mustache::data toMustache(const json::Value& v) {
  using kainjow::mustache::data;
  if (v.isObject()) {
    data d{data::type::object};
    for (const auto& [k, x] : v.asObject()) d.set(k, toMustache(x));
    return d;
  }
  if (v.isArray()) {
    data d{data::type::list};
    for (const json::Value& x : v.asArray()) d.push_back(toMustache(x));
    return d;
  }
  if (v.isString()) return data(v.asString());
  if (v.isBool()) return data(v.asBool());
  if (v.isNull()) return data(false);
  return data(json::dump(v));
}

class DocumentWork final : public step::Extension {
 public:
  DocumentWork(std::map<std::string, std::string> templates,
               std::shared_ptr<storage::BlobStore> blobs,
               std::shared_ptr<const signing::Sealer> seal)
      : templates_(std::move(templates)), blobs_(std::move(blobs)), seal_(std::move(seal)) {}

  Status transitionTaken(step::Context& step, const scxml::Transition& t) const override {
    const std::vector<RequirementSpec> reqs = workflow::transitionRequirements(t);
    if (reqs.empty()) return Status::ok();
    return check(step, reqs,
                 "take the transition from '" + step.chart().state(t.source).id + "' (line " +
                     std::to_string(t.line) + ")");
  }

  Status stateExited(step::Context& step, const scxml::State& state) const override {
    const std::vector<RequirementSpec> reqs = workflow::stateRequirements(state);
    if (reqs.empty()) return Status::ok();
    return check(step, reqs, "leave state '" + state.id + "'");
  }

  // <w:render>: what to render, with the data as it is now; other workflow elements of
  // executable content (<w:requires> of a transition) do nothing when run.
  Status executed(step::Context& step, const scxml::XmlElement& element) const override {
    if (element.ns != workflow::kNamespace || element.name != "render") return Status::ok();
    const std::string* name = element.attribute("template");
    const std::string* document = element.attribute("document");
    const std::string* seal = element.attribute("seal");
    const std::string template_name = name ? *name : std::string();
    if (templates_.count(template_name) == 0) {
      return Status(ErrorCode::kNotFound, "render: no template '" + template_name + "'");
    }
    step.pending(*this).emplace_back(
        json::Object{{"template", template_name},
                     {"document", document ? *document : std::string()},
                     {"seal", !seal || (*seal != "false" && *seal != "0")},
                     {"data", step.data()}});
    return Status::ok();
  }

  Status afterMacrostep(step::Context& step) const override {
    std::vector<json::Value> renders = std::move(step.pending(*this));
    if (renders.empty()) return Status::ok();
    // Documents print names, not ids: every top-level text variable that names a user or a
    // unit of the directory also comes as VAR_nombre (e.g. abogado_asignado_nombre).
    std::map<std::string, std::string> names;
    auto dir = step.tx().directory();
    if (!dir) return dir.status();
    for (const storage::UserRecord& u : dir->users) names.emplace(u.id, u.name);
    for (const storage::UnitRecord& u : dir->units) names.emplace(u.id, u.name);
    for (json::Value& r : renders) {
      if (Status st = render(step, r, names); !st) return st;
    }
    return Status::ok();
  }

 private:
  Status render(step::Context& step, json::Value& r,
                const std::map<std::string, std::string>& names) const {
    const std::string template_name = stringMember(r, "template");
    const std::string document = stringMember(r, "document");
    const TimePoint now = step.now();
    const storage::InstanceRecord& inst = step.instance();
    kainjow::mustache::mustache tmpl(templates_.at(template_name));
    if (!tmpl.is_valid()) {
      return Status(ErrorCode::kInvalidDocument,
                    "template '" + template_name + "': " + tmpl.error_message());
    }
    json::Value* data = r.find("data");
    json::Value context = data->isObject() ? std::move(*data) : json::Value(json::Object{});
    std::vector<std::pair<std::string, std::string>> named;
    for (const auto& [key, value] : context.asObject()) {
      if (!value.isString()) continue;
      if (auto it = names.find(value.asString()); it != names.end()) {
        named.emplace_back(key + "_nombre", it->second);
      }
    }
    for (auto& [key, name] : named) context.set(key, std::move(name));
    context.set("expediente",
                json::Value(json::Object{{"numero", inst.business_key},
                                         {"instancia", inst.id},
                                         {"proceso", step.definitionName()},
                                         {"fecha", step.calendar().dateOf(now).toString()}}));
    const std::string bytes = tmpl.render(toMustache(context));
    if (!tmpl.is_valid()) {
      return Status(ErrorCode::kInvalidDocument,
                    "template '" + template_name + "': " + tmpl.error_message());
    }
    storage::Transaction& tx = step.tx();
    const std::string sha = sha256Hex(bytes);
    if (Status st = blobs_->put(tx, sha, bytes); !st) return st;
    storage::DocumentRecord rendered{step.newId(),
                                     inst.id,
                                     "",
                                     document,
                                     0,
                                     sha,
                                     "text/html; charset=utf-8",
                                     static_cast<std::int64_t>(bytes.size()),
                                     document + ".html",
                                     "template",
                                     kSystemActor,
                                     now};
    auto added = tx.addDocument(rendered);
    if (!added) return added.status();
    json::Value detail = documentDetail(*added);
    detail.set("template", template_name);
    step.record("document", detail);
    const json::Value* seal = r.find("seal");
    if (!seal_ || !seal || !seal->asBool()) return Status::ok();
    auto p7s = seal_->sign(bytes, now);
    if (!p7s) return p7s.status();
    const std::string p7s_sha = sha256Hex(*p7s);
    if (Status st = blobs_->put(tx, p7s_sha, *p7s); !st) return st;
    const signing::CertificateInfo& cert = seal_->certificate();
    storage::SignatureRecord sig;
    sig.id = step.newId();
    sig.document_id = added->id;
    sig.instance_id = inst.id;
    sig.signer = kSealSigner;
    sig.subject = cert.subject;
    sig.issuer = cert.issuer;
    sig.serial = cert.serial;
    sig.fingerprint = cert.fingerprint;
    sig.signing_time = now / 1000 * 1000;
    sig.p7s_sha256 = p7s_sha;
    sig.created_by = kSystemActor;
    sig.created_at = now;
    if (Status st = tx.addSignature(sig); !st) return st;
    step.record("signature", signatureDetail(sig, *added));
    return Status::ok();
  }

  // Refuses the step, naming each unmet requirement of reqs ("cannot <what>: ...").
  static Status check(step::Context& step, const std::vector<RequirementSpec>& reqs,
                      const std::string& what) {
    storage::Transaction& tx = step.tx();
    const std::string& instance = step.instance().id;
    auto docs = tx.documentsOf(instance);
    if (!docs) return docs.status();
    auto sigs = tx.signaturesOf(instance);
    if (!sigs) return sigs.status();
    std::optional<storage::DirectoryRecords> directory;  // read when a rule needs everyone
    std::vector<std::string> missing;
    for (const RequirementSpec& req : reqs) {
      const storage::DocumentRecord* latest = nullptr;
      for (const storage::DocumentRecord& d : *docs) {
        if (d.name == req.document && (!latest || d.version > latest->version)) latest = &d;
      }
      if (!latest) {
        missing.push_back("document '" + req.document + "' is missing");
        continue;
      }
      // Who signed the latest version, with the roles they hold now.
      std::vector<std::pair<std::string, std::vector<std::string>>> signers;
      for (const storage::SignatureRecord& s : *sigs) {
        if (s.document_id != latest->id || s.signer == kSealSigner) continue;
        auto user = step.activeUser(s.signer);
        if (!user) return user.status();
        if (user->has_value()) signers.emplace_back(s.signer, (*user)->roles);
      }
      for (const SignedBySpec& by : req.signed_by) {
        auto holds = [&](const std::vector<std::string>& roles) {
          return std::any_of(by.roles.begin(), by.roles.end(), [&](const std::string& r) {
            return std::find(roles.begin(), roles.end(), r) != roles.end();
          });
        };
        std::set<std::string> have;
        for (const auto& [who, roles] : signers) {
          if (holds(roles)) have.insert(who);
        }
        const std::string roles = join(by.roles, " or ");
        const std::string doc = "'" + req.document + "' v" + std::to_string(latest->version);
        if (by.all) {
          if (!directory) {
            auto dir = tx.directory();
            if (!dir) return dir.status();
            directory = std::move(dir).value();
          }
          std::vector<std::string> lacking;
          for (const storage::UserRecord& u : directory->users) {
            if (u.active && holds(u.roles) && have.count(u.id) == 0) lacking.push_back(u.id);
          }
          if (!lacking.empty()) {
            missing.push_back(doc + " needs the signature of every " + roles +
                              "; missing: " + join(lacking, ", "));
          }
        } else if (static_cast<int>(have.size()) < by.count) {
          const std::string who = join(have, ", ");
          missing.push_back(doc + " needs " + std::to_string(by.count) + " signature" +
                            (by.count == 1 ? "" : "s") + " by " + roles + ", has " +
                            std::to_string(have.size()) + (who.empty() ? "" : " (" + who + ")"));
        }
      }
    }
    if (missing.empty()) return Status::ok();
    return step.refuse("cannot " + what + ": " + join(missing, "; "));
  }

  std::map<std::string, std::string> templates_;
  std::shared_ptr<storage::BlobStore> blobs_;
  std::shared_ptr<const signing::Sealer> seal_;
};

}  // namespace

std::unique_ptr<step::Extension> documentWork(std::map<std::string, std::string> templates,
                                              std::shared_ptr<storage::BlobStore> blobs,
                                              std::shared_ptr<const signing::Sealer> seal) {
  return std::make_unique<DocumentWork>(std::move(templates), std::move(blobs), std::move(seal));
}

json::Value signatureJson(const storage::SignatureRecord& s) {
  json::Value v(json::Object{{"id", s.id},
                             {"document", s.document_id},
                             {"signer", s.signer},
                             {"subject", s.subject},
                             {"issuer", s.issuer},
                             {"serial", s.serial},
                             {"fingerprint", s.fingerprint},
                             {"signing_time", s.signing_time},
                             {"p7s_sha256", s.p7s_sha256},
                             {"created_by", s.created_by},
                             {"created_at", s.created_at}});
  if (s.timestamp_at != 0) v.set("timestamp_at", s.timestamp_at);
  return v;
}

json::Value documentDetail(const storage::DocumentRecord& d) {
  json::Value v(json::Object{{"document", d.id},
                             {"name", d.name},
                             {"version", d.version},
                             {"sha256", d.sha256},
                             {"size", d.size},
                             {"content_type", d.content_type},
                             {"origin", d.origin}});
  if (!d.task_id.empty()) v.set("task", d.task_id);
  return v;
}

json::Value signatureDetail(const storage::SignatureRecord& s, const storage::DocumentRecord& d) {
  json::Value v = signatureJson(s);
  v.set("name", d.name);
  v.set("version", d.version);
  v.set("document_sha256", d.sha256);
  return v;
}

}  // namespace tramite::documents
