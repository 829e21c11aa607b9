// The API's types and the values of its enums, from the schema generated out of the
// server's OpenAPI document (schema.ts; scripts/build_dashboard regenerates it). Choices the
// dashboard offers come from here, never from a list typed by hand.
import {
  failoverConfigOnErrorsValues,
  hitlSettingsDefaultPolicyValues,
  pathsApiTasksGetParametersQueryStatusAnyOf0Values,
  routingSettingsStrategyValues,
  settingsNotificationsChannelsEmailSecurityValues,
  taskCreateAccessModeAnyOf0Values,
  type components,
  type paths,
} from "./schema";

type S = components["schemas"];

export type TaskStatus = NonNullable<NonNullable<paths["/api/tasks"]["get"]["parameters"]["query"]>["status"]>;
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
export type AccessModeName = NonNullable<NewTask["accessMode"]>;
export type Provider = S["ProviderOut"];
export type ProviderPatch = S["ProviderPatch"];
export type Settings = S["Settings"];
export type SettingsPatch = S["SettingsPatch"];
export type AlertPage = S["AlertPage"];
export type FieldError = S["ErrorDetail"];

/** An enum's values without the `null` that a nullable field's type adds. */
function values<T>(all: readonly (T | null)[]): readonly T[] {
  return all.filter((v): v is T => v != null);
}

/** Every task status, in the API's order. */
export const TASK_STATUSES = values(pathsApiTasksGetParametersQueryStatusAnyOf0Values);
/** Every access mode. */
export const ACCESS_MODES: readonly string[] = values(taskCreateAccessModeAnyOf0Values);
/** Every HITL policy. */
export const HITL_POLICIES: readonly string[] = hitlSettingsDefaultPolicyValues;
/** Every routing strategy. */
export const ROUTING_STRATEGIES: readonly string[] = routingSettingsStrategyValues;
/** How email reaches the SMTP server (starttls, tls, none). */
export const EMAIL_SECURITY: readonly string[] = settingsNotificationsChannelsEmailSecurityValues;
/** The names `routing.failover.onErrors` accepts. */
export const FAILOVER_ERRORS: readonly string[] = failoverConfigOnErrorsValues;

/** One alert of GET /api/alerts (the notification history). */
export interface Alert {
  id: number;
  event: string;
  channel: string;
  status: string;
  level: string;
  title: string;
  message: string | null;
  taskId: number | null;
  createdAt: string;
}
