// The API's types and the values of its enums, from the schema generated out of the
// server's OpenAPI document (schema.ts; scripts/build_dashboard regenerates it). Choices the
// dashboard offers come from here, never from a list typed by hand.
import {
  accessModeValues,
  failoverConfigOnErrorsValues,
  handoffModeValues,
  hitlPolicyValues,
  routingSettingsStrategyValues,
  settingsNotificationsChannelsEmailSecurityValues,
  taskStatusValues,
  type components,
} from "./schema";

type S = components["schemas"];

export type TaskStatus = S["TaskStatus"];
export type TaskSummary = S["TaskSummary"];
export type TaskDetail = S["TaskDetail"];
export type Attempt = S["AttemptOut"];
export type TaskPage = S["TaskPage"];
export type TaskEvent = S["EventOut"];
export type EventPage = S["EventPage"];
export type NewTask = S["TaskCreate"];
export type Stat = S["Stat"];
export type DashboardStats = S["DashboardStats"];
export type UsageHistory = S["UsageHistory"];
export type Limit = S["LimitOut"];
export type AccessMode = S["AccessModeOut"];
/** An access mode's name (subscription, api, free). */
export type AccessModeName = S["AccessMode"];
export type Provider = S["ProviderOut"];
export type ProviderPatch = S["ProviderPatch"];
export type Settings = S["Settings"];
export type SettingsPatch = S["SettingsPatch"];
export type AlertPage = S["AlertPage"];
/** One alert of GET /api/alerts (the notification history). */
export type Alert = S["AlertOut"];
/** A message of the live WebSocket (/api/ws). */
export type LiveMessage = S["LiveMessage"];
export type FieldError = S["ErrorDetail"];
/** GET /api/quota: the quota ledger with routing.quota's warnAt and stopAt. */
export type Quota = S["QuotaOut"];
/** One usage window of one provider id (an account). */
export type QuotaReading = S["QuotaWindowOut"];
/** A live worker pool of GET /api/workers (the worker registry). */
export type Worker = S["WorkerOut"];

/** Every task status, in the API's order. */
export const TASK_STATUSES: readonly TaskStatus[] = taskStatusValues;
/** Every access mode. */
export const ACCESS_MODES: readonly string[] = accessModeValues;
/** Every HITL policy. */
export const HITL_POLICIES: readonly string[] = hitlPolicyValues;
/** Every routing strategy. */
export const ROUTING_STRATEGIES: readonly string[] = routingSettingsStrategyValues;
/** How email reaches the SMTP server (starttls, tls, none). */
export const EMAIL_SECURITY: readonly string[] = settingsNotificationsChannelsEmailSecurityValues;
/** The names `routing.failover.onErrors` accepts. */
export const FAILOVER_ERRORS: readonly string[] = failoverConfigOnErrorsValues;
/** What the next agent is told on failover (`routing.failover.handoff`). */
export const HANDOFF_MODES: readonly string[] = handoffModeValues;
