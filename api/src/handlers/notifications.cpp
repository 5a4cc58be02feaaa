// The API's handlers: the caller's in-app notifications.
#include "api_impl.h"

namespace tramite::api {

namespace {

json::Value notificationJson(const storage::NotificationRecord& n) {
  json::Value v(json::Object{{"id", n.id},
                             {"kind", n.kind},
                             {"instance_id", n.instance_id},
                             {"business_key", n.business_key},
                             {"subject", n.subject},
                             {"body", n.body},
                             {"created_at", n.created_at},
                             {"read", n.read_at != 0}});
  if (!n.task_id.empty()) v.set("task_id", n.task_id);
  if (n.read_at != 0) v.set("read_at", n.read_at);
  return v;
}

}  // namespace

// ?unread=true for the unread only; pages of ?limit= (1-200, 50) before ?before=ID.
Result<HttpResponse> Api::Impl::notifications(Context& c) {
  auto limit = intParam(c, "limit", 1, 200, 50);
  if (!limit) return limit.status();
  auto before = intParam(c, "before", 1, 999'999'999, 0);
  if (!before) return before.status();
  bool unread_only = false;
  if (const std::string* u = c.req.param("unread")) {
    if (*u != "true" && *u != "false") {
      return Status(ErrorCode::kInvalidArgument, "query parameter 'unread' is true or false");
    }
    unread_only = *u == "true";
  }
  auto page = inbox_.list(c.actor(), unread_only, *before, static_cast<int>(*limit));
  if (!page) return page.status();
  json::Array items;
  for (const storage::NotificationRecord& n : page->items) items.push_back(notificationJson(n));
  json::Value body(
      json::Object{{"notifications", json::Value(std::move(items))}, {"unread", page->unread}});
  if (page->next_before > 0) body.set("next_before", page->next_before);
  return jsonResponse(200, body);
}

Result<HttpResponse> Api::Impl::readNotification(Context& c) {
  const std::string& id = c.path.at("id");
  const bool digits =
      !id.empty() && id.size() <= 18 && std::all_of(id.begin(), id.end(), ::isdigit);
  if (!digits) return Status(ErrorCode::kNotFound, "no notification " + id);
  if (Status st = inbox_.markRead(c.actor(), std::stoll(id)); !st) return st;
  return jsonResponse(
      200, json::objectOf("id", static_cast<std::int64_t>(std::stoll(id)), "read", true));
}

// The routes of this resource (see Route in api_impl.h).
std::vector<Api::Impl::Route> Api::Impl::notificationRoutes() {
  using I = Impl;
  return {
      Route("listNotifications", "GET", "/api/v1/notifications", Access::kUser, &I::notifications)
          .summary("The caller's notifications, newest first")
          .query("unread", "only the unread", R"({"type": "boolean"})")
          .query("before", "a page: ids below this one (next_before of the page before)",
                 R"({"type": "integer", "minimum": 1})")
          .query("limit", "", R"({"type": "integer", "minimum": 1, "maximum": 200, "default": 50})")
          .returns(200, "NotificationPage", "a page of notifications and the count of unread ones")
          .fails({400}),
      Route("readNotification", "POST", "/api/v1/notifications/{id}/read", Access::kUser,
            &I::readNotification)
          .summary("Mark one of the caller's notifications read")
          .returns(200, "NotificationRead", "read"),
  };
}

}  // namespace tramite::api
