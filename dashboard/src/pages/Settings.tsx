// Routing, cost limits, HITL and notifications, saved through PATCH /api/settings.
// Secrets are write-only: the API says whether one is set, never what it is. A value saved
// here shadows ado.config.yaml's: it is marked with the file's value and can be reset.
import { Check, RotateCcw, Save } from "lucide-react";
import { useEffect, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import { usePatchSettings, useResetSetting, useResetSettings, useSettings } from "../api/queries";
import {
  EMAIL_SECURITY,
  FAILOVER_ERRORS,
  HANDOFF_MODES,
  HITL_POLICIES,
  ROUTING_STRATEGIES,
  type Settings as SettingsData,
} from "../api/types";
import {
  Card,
  ErrorBox,
  PageHeader,
  Spinner,
  Toggle,
  buttonClass,
  inputClass,
  secondaryButtonClass,
} from "../components/ui";

type Values = Record<string, string | boolean>;
/** A secret's edit: keep it (undefined), replace it (a string) or remove it (null). */
type SecretEdits = Record<string, string | null | undefined>;


interface FieldSpec {
  path: string;
  label: string;
  type: "text" | "number" | "bool" | "select" | "list" | "secret";
  options?: string[];
  help?: string;
  nullable?: boolean;
}

const SECTIONS: { title: string; fields: FieldSpec[] }[] = [
  {
    title: "Routing",
    fields: [
      { path: "routing.strategy", label: "Strategy", type: "select", options: [...ROUTING_STRATEGIES] },
      { path: "routing.failover.enabled", label: "Fail over to the next provider", type: "bool" },
      {
        path: "routing.failover.onErrors",
        label: "Fail over on",
        type: "list",
        help: `comma-separated, any of: ${FAILOVER_ERRORS.join(", ")}`,
      },
      { path: "routing.failover.maxRetries", label: "Max further attempts", type: "number" },
      { path: "routing.failover.retryDelay", label: "Retry delay (ms)", type: "number" },
      {
        path: "routing.failover.handoff",
        label: "The next agent gets",
        type: "select",
        options: [...HANDOFF_MODES],
        help: "summary: the task and what the earlier attempts did; restart: the task alone",
      },
    ],
  },
  {
    title: "API fallback and cost limits (USD)",
    fields: [
      { path: "routing.apiFallback.enabled", label: "Allow pay-per-token API modes", type: "bool" },
      {
        path: "routing.apiFallback.confirmAboveCost",
        label: "Ask above",
        type: "number",
        nullable: true,
        help: "empty: never ask",
      },
      {
        path: "routing.apiFallback.maxCostPerTask",
        label: "Max cost per task",
        type: "number",
        nullable: true,
        help: "empty: no limit",
      },
      {
        path: "routing.apiFallback.maxDailyCost",
        label: "Max daily cost",
        type: "number",
        nullable: true,
        help: "empty: no limit",
      },
    ],
  },
  {
    title: "Human in the loop",
    fields: [
      { path: "hitl.defaultPolicy", label: "Default policy", type: "select", options: [...HITL_POLICIES] },
      {
        path: "hitl.escalationThresholds.maxIterations",
        label: "Max iterations",
        type: "number",
        nullable: true,
        help: "empty: no limit",
      },
      {
        path: "hitl.escalationThresholds.maxDuration",
        label: "Max duration (s)",
        type: "number",
        nullable: true,
        help: "empty: no limit",
      },
    ],
  },
  {
    title: "Notifications: Slack",
    fields: [
      { path: "notifications.channels.slack.enabled", label: "Enabled", type: "bool" },
      { path: "notifications.channels.slack.webhookUrl", label: "Webhook URL", type: "secret" },
      { path: "notifications.channels.slack.channel", label: "Channel", type: "text", nullable: true },
    ],
  },
  {
    title: "Notifications: email",
    fields: [
      { path: "notifications.channels.email.enabled", label: "Enabled", type: "bool" },
      { path: "notifications.channels.email.smtpHost", label: "SMTP host", type: "text", nullable: true },
      { path: "notifications.channels.email.smtpPort", label: "SMTP port", type: "number", nullable: true },
      {
        path: "notifications.channels.email.security",
        label: "Security",
        type: "select",
        options: [...EMAIL_SECURITY],
      },
      { path: "notifications.channels.email.username", label: "Username", type: "text", nullable: true },
      { path: "notifications.channels.email.password", label: "Password", type: "secret" },
      { path: "notifications.channels.email.from", label: "From", type: "text", nullable: true },
      { path: "notifications.channels.email.to", label: "To", type: "list", help: "comma-separated" },
    ],
  },
  {
    title: "Notifications: webhook",
    fields: [
      { path: "notifications.channels.webhook.enabled", label: "Enabled", type: "bool" },
      { path: "notifications.channels.webhook.url", label: "URL", type: "text", nullable: true },
      { path: "notifications.channels.webhook.secret", label: "Signing secret", type: "secret" },
    ],
  },
];

const ALL_FIELDS = SECTIONS.flatMap((s) => s.fields);

function get(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function set(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = obj;
  for (const k of parts.slice(0, -1)) {
    o[k] = (o[k] as Record<string, unknown> | undefined) ?? {};
    o = o[k] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = value;
}

function toValues(settings: SettingsData): Values {
  const values: Values = {};
  for (const f of ALL_FIELDS) {
    const v = get(settings, f.path);
    if (f.type === "bool") values[f.path] = Boolean(v);
    else if (f.type === "list") values[f.path] = Array.isArray(v) ? v.join(", ") : "";
    else if (f.type !== "secret") values[f.path] = v == null ? "" : String(v);
  }
  return values;
}

/** Only what the form changed: saving one field never rewrites (and so shadows) the others. */
function toPatch(values: Values, initial: Values, secrets: SecretEdits): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const f of ALL_FIELDS) {
    if (f.type === "secret") {
      if (secrets[f.path] !== undefined) set(patch, f.path, secrets[f.path]);
      continue;
    }
    const raw = values[f.path];
    if (raw === initial[f.path]) continue;
    let value: unknown = raw;
    if (f.type === "number") {
      const text = String(raw).trim();
      value = text === "" ? null : Number.isNaN(Number(text)) ? text : Number(text);
    } else if (f.type === "list") {
      value = String(raw)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    } else if (f.type === "text" || f.type === "select") {
      value = String(raw).trim() === "" && f.nullable ? null : raw;
    }
    set(patch, f.path, value);
  }
  return patch;
}

type Origin = "default" | "file" | "saved";

/** Where each value comes from (`origins`) and what the file would give for those saved
 * here (`fileValues`), both keyed by the dotted paths the fields use. */
function originsOf(settings: SettingsData): { origins: Record<string, Origin>; fileValues: Record<string, unknown> } {
  const s = settings as SettingsData & { origins?: Record<string, Origin>; fileValues?: Record<string, unknown> };
  return { origins: s.origins ?? {}, fileValues: s.fileValues ?? {} };
}

function showValue(value: unknown): string {
  if (value == null || value === "") return "unset";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  if (typeof value === "boolean") return value ? "on" : "off";
  if (typeof value === "object" && "set" in value) return (value as { set: boolean }).set ? "set" : "not set";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A value saved through the dashboard shadows the file's: say so, show the file's value and
 * offer to remove the saved one. */
function SavedMarker({
  path,
  fileValue,
  onReset,
  resetting,
}: {
  path: string;
  fileValue: unknown;
  onReset: (path: string) => void;
  resetting: boolean;
}) {
  return (
    <span
      data-testid="origin-saved"
      className="mt-1 flex flex-wrap items-center gap-x-2 gap-y-0.5 text-xs text-violet-700 dark:text-violet-300"
    >
      <span className="min-w-0 [overflow-wrap:anywhere]">
        Saved here, over ado.config.yaml; without it:{" "}
        <code data-testid="file-value" className="rounded bg-violet-50 px-1 dark:bg-violet-950">
          {showValue(fileValue)}
        </code>
      </span>
      <button
        type="button"
        data-testid="reset-setting"
        className="font-medium underline disabled:opacity-50"
        disabled={resetting}
        onClick={(e) => {
          e.preventDefault(); // inside a <label>: do not focus the input
          onReset(path);
        }}
      >
        Use the file's value
      </button>
    </span>
  );
}

function fieldErrors(error: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (!(error instanceof ApiError)) return map;
  for (const d of error.details) {
    if (!d.field) continue;
    const field = d.field.replace(/^body\./, "");
    const match = ALL_FIELDS.find((f) => field === f.path || field.startsWith(`${f.path}.`) || field.endsWith(f.path));
    map.set(match?.path ?? field, d.message);
  }
  return map;
}

function Field({
  spec,
  error,
  origin,
  marker,
  children,
}: {
  spec: FieldSpec;
  error?: string;
  origin?: Origin;
  marker?: ReactNode;
  children: ReactNode;
}) {
  return (
    <label className="block text-sm" data-field={spec.path} data-origin={origin}>
      <span className="mb-1 block font-medium">{spec.label}</span>
      {children}
      {spec.help && <span className="mt-0.5 block text-xs text-slate-500">{spec.help}</span>}
      {marker}
      {error && (
        <span role="alert" data-testid="field-error" className="mt-1 block text-xs text-red-600 dark:text-red-400">
          {error}
        </span>
      )}
    </label>
  );
}

function Form({ settings }: { settings: SettingsData }) {
  const save = usePatchSettings();
  const reset = useResetSetting();
  const resetAll = useResetSettings();
  const [confirmReset, setConfirmReset] = useState(false);
  const { origins, fileValues } = originsOf(settings);
  const saved = ALL_FIELDS.filter((f) => origins[f.path] === "saved").length;
  const marker = (path: string) =>
    origins[path] === "saved" ? (
      <SavedMarker path={path} fileValue={fileValues[path]} resetting={reset.isPending} onReset={(key) => reset.mutate(key)} />
    ) : undefined;
  const [values, setValues] = useState<Values>(() => toValues(settings));
  const [secrets, setSecrets] = useState<SecretEdits>({});
  useEffect(() => {
    setValues(toValues(settings));
  }, [settings]);
  const errors = fieldErrors(save.error);
  const update = (path: string, value: string | boolean) => {
    setValues((v) => ({ ...v, [path]: value }));
    if (save.isSuccess || save.isError) save.reset();
  };

  const input = (f: FieldSpec) => {
    const error = errors.get(f.path);
    const cls = `${inputClass}${error ? " border-red-500 dark:border-red-500" : ""}`;
    switch (f.type) {
      case "bool":
        return (
          <div className="text-sm" data-field={f.path} data-origin={origins[f.path]}>
            <div className="flex items-center justify-between gap-3">
              <span className="font-medium">{f.label}</span>
              <Toggle label={f.label} checked={Boolean(values[f.path])} onChange={(v) => update(f.path, v)} />
            </div>
            {marker(f.path)}
          </div>
        );
      case "select":
        return (
          <Field spec={f} error={error} origin={origins[f.path]} marker={marker(f.path)}>
            <select name={f.path} className={cls} value={String(values[f.path] ?? "")} onChange={(e) => update(f.path, e.target.value)}>
              {f.options?.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          </Field>
        );
      case "secret": {
        const isSet = Boolean((get(settings, f.path) as { set?: boolean } | undefined)?.set);
        const edit = secrets[f.path];
        return (
          <Field spec={f} error={error} origin={origins[f.path]} marker={marker(f.path)}>
            <div className="flex gap-2">
              <input
                name={f.path}
                type="password"
                autoComplete="new-password"
                className={cls}
                value={typeof edit === "string" ? edit : ""}
                placeholder={edit === null ? "will be removed" : isSet ? "set — type to replace" : "not set"}
                onChange={(e) => setSecrets((s) => ({ ...s, [f.path]: e.target.value || undefined }))}
              />
              {isSet && edit !== null && (
                <button type="button" className={secondaryButtonClass} onClick={() => setSecrets((s) => ({ ...s, [f.path]: null }))}>
                  Remove
                </button>
              )}
            </div>
            <span data-testid="secret-state" className="mt-0.5 block text-xs text-slate-500">
              {isSet ? "set (never shown)" : "not set"}
            </span>
          </Field>
        );
      }
      default:
        return (
          <Field spec={f} error={error} origin={origins[f.path]} marker={marker(f.path)}>
            <input
              name={f.path}
              type="text"
              inputMode={f.type === "number" ? "decimal" : undefined}
              className={cls}
              value={String(values[f.path] ?? "")}
              onChange={(e) => update(f.path, e.target.value)}
            />
          </Field>
        );
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(toPatch(values, toValues(settings), secrets), { onSuccess: () => setSecrets({}) });
      }}
    >
      <div className="grid gap-4 lg:grid-cols-2">
        {SECTIONS.map((section) => (
          <Card key={section.title} title={section.title}>
            <div className="space-y-3">{section.fields.map((f) => <div key={f.path}>{input(f)}</div>)}</div>
          </Card>
        ))}
      </div>
      <div className="sticky bottom-0 mt-4 flex flex-wrap items-center gap-3 border-t border-slate-200 bg-slate-50/90 py-3 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
        <button type="submit" className={buttonClass} disabled={save.isPending} data-testid="save-settings">
          <Save className="h-4 w-4" /> {save.isPending ? "Saving…" : "Save settings"}
        </button>
        {save.isSuccess && (
          <span data-testid="saved" className="flex items-center gap-1 text-sm text-emerald-600">
            <Check className="h-4 w-4" /> Saved
          </span>
        )}
        {saved > 0 &&
          (confirmReset ? (
            <span className="flex flex-wrap items-center gap-2 text-sm">
              Remove every setting saved here and use ado.config.yaml?
              <button
                type="button"
                data-testid="reset-all-confirm"
                className={secondaryButtonClass}
                disabled={resetAll.isPending}
                onClick={() => resetAll.mutate(undefined, { onSettled: () => setConfirmReset(false) })}
              >
                <RotateCcw className="h-4 w-4" /> Reset
              </button>
              <button type="button" className="underline" onClick={() => setConfirmReset(false)}>
                Keep them
              </button>
            </span>
          ) : (
            <button type="button" data-testid="reset-all" className={secondaryButtonClass} onClick={() => setConfirmReset(true)}>
              <RotateCcw className="h-4 w-4" /> Use the file's values ({saved} saved here)
            </button>
          ))}
        {[save, reset, resetAll].map(
          (m, i) =>
            m.isError && (
              <div key={i} className="flex-1">
                <ErrorBox error={m.error} />
              </div>
            ),
        )}
      </div>
    </form>
  );
}

export default function Settings() {
  const settings = useSettings();
  return (
    <div>
      <PageHeader title="Settings" />
      {settings.isPending ? (
        <Spinner />
      ) : settings.isError ? (
        <ErrorBox error={settings.error} onRetry={() => settings.refetch()} />
      ) : (
        <Form settings={settings.data} />
      )}
    </div>
  );
}
