// The API's types, from the schema generated out of the server's OpenAPI document
// (schema.d.ts; scripts/build_dashboard regenerates it).
import type { components } from "./schema";

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
export type Provider = S["ProviderOut"];
export type ProviderPatch = S["ProviderPatch"];
export type Settings = S["Settings"];
export type SettingsPatch = S["SettingsPatch"];
export type AlertPage = S["AlertPage"];
export type FieldError = S["ErrorDetail"];

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
