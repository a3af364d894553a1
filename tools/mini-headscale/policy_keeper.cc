// PolicyKeeper: the policy file read, checked, compiled over the nodes and swapped in.
#include "policy_keeper.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshvpn/acl/policy_tests.h"

namespace meshvpn::tools {

absl::StatusOr<std::shared_ptr<const acl::Policy>> CheckPolicyText(
    const std::string& text, const acl::Inventory& inventory) {
  std::vector<acl::PolicyIssue> issues;
  absl::StatusOr<acl::Policy> policy = acl::ParsePolicy(text, &issues);
  if (!policy.ok()) {
    std::vector<std::string> lines;
    for (const acl::PolicyIssue& i : issues) lines.push_back(i.ToString());
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  if (absl::Status tests = acl::CheckPolicyTests(*policy, inventory); !tests.ok()) return tests;
  return std::make_shared<const acl::Policy>(std::move(*policy));
}

namespace {

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read it"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

PolicyKeeper::PolicyKeeper(uv_loop_t* loop, std::string path, std::FILE* out,
                           ServerPrinter* printer)
    : loop_(loop), path_(std::move(path)), out_(out), printer_(printer) {}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status PolicyKeeper::LoadInitial() {
  absl::StatusOr<std::string> text = ReadWhole(path_);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::shared_ptr<const acl::Policy>> policy = CheckPolicyText(*text);
  if (!policy.ok()) return policy.status();
  policy_ = *std::move(policy);
  text_ = *std::move(text);
  updated_ms_ = NowMs();
  auto timer = UvHandle<uv_timer_t>::Create(loop_, uv_timer_init);
  if (!timer.ok()) return timer.status();
  timer_ = *std::move(timer);
  timer_.set_owner(this);
  return absl::OkStatus();
}

void PolicyKeeper::Attach(control::ControlServer* server) {
  server_ = server;
  Rebuild();
  std::fprintf(out_, "[Policy] %s: %zu rules, %zu tests passed\n", path_.c_str(),
               policy_->rules.size(), policy_->tests.size() + policy_->ssh_tests.size());
  for (const acl::PolicyIssue& w : policy_->warnings) {
    std::fprintf(out_, "[Policy] warning: %s\n", w.ToString().c_str());
  }
}

absl::Status PolicyKeeper::Reload() {
  absl::StatusOr<std::string> text = ReadWhole(path_);
  if (!text.ok()) {
    std::fprintf(out_, "[Policy] %s refused; the policy in force stays:\n%s\n", path_.c_str(),
                 std::string(text.status().message()).c_str());
    std::fflush(out_);
    return text.status();
  }
  return Adopt(*std::move(text), "reloaded");
}

absl::Status PolicyKeeper::Adopt(std::string text, const char* how) {
  absl::StatusOr<std::shared_ptr<const acl::Policy>> policy =
      CheckPolicyText(text, current_ ? current_->inventory() : acl::Inventory());
  if (!policy.ok()) {
    std::fprintf(out_, "[Policy] %s refused; the policy in force stays:\n%s\n", path_.c_str(),
                 std::string(policy.status().message()).c_str());
    std::fflush(out_);
    return policy.status();
  }
  policy_ = *std::move(policy);
  text_ = std::move(text);
  updated_ms_ = NowMs();
  Rebuild();
  std::fprintf(out_, "[Policy] %s %s: %zu rules; every node gets the change as a delta\n", how,
               path_.c_str(), policy_->rules.size());
  std::fflush(out_);
  return absl::OkStatus();
}

absl::Status PolicyKeeper::SetPolicyText(std::string_view text) {
  // Check first: a refused text must not reach the file.
  if (absl::StatusOr<std::shared_ptr<const acl::Policy>> checked =
          CheckPolicyText(std::string(text), current_ ? current_->inventory() : acl::Inventory());
      !checked.ok()) {
    return checked.status();
  }
  // Replace the file whole (a reader never sees half of it), keeping its mode.
  struct stat st {};
  const mode_t mode = ::stat(path_.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0644;
  const std::string tmp = path_ + ".new";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  ::chmod(tmp.c_str(), mode);
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot replace ", path_));
  }
  return Adopt(std::string(text), "set through the API, written to");
}

void PolicyKeeper::InventoryChanged() {
  if (server_ == nullptr || timer_armed_) return;
  timer_armed_ = true;
  uv_timer_start(timer_.get(), &PolicyKeeper::OnTimer, 50, 0);
}

void PolicyKeeper::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<PolicyKeeper*>(timer->data);
  self->timer_armed_ = false;
  self->Rebuild();
}

void PolicyKeeper::Rebuild() {
  if (server_ == nullptr) return;
  std::unique_ptr<control::AclMapPolicy> next =
      control::AclMapPolicy::Build(policy_, server_->PublishedNodes(), server_->UserNames());
  server_->SetPolicy(next.get());
  printer_->set_policy(next.get());
  previous_ = std::move(current_);
  current_ = std::move(next);
}

}  // namespace meshvpn::tools
