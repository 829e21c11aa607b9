// Stat cards, the quota ledger, task volume (7 days), usage by provider, API cost trend and
// recent alerts.
import { Activity, Bell, CheckCircle2, Clock, DollarSign, type LucideIcon } from "lucide-react";
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { useAlerts, useStats, useUsageHistory } from "../api/queries";
import type { Stat } from "../api/types";
import { Link } from "react-router";
import { QuotaPanel } from "../components/Quota";
import { Badge, Card, Empty, ErrorBox, PageHeader, Spinner, cx } from "../components/ui";

const LEVEL_TONE: Record<string, "blue" | "green" | "amber" | "red"> = {
  info: "blue",
  success: "green",
  warning: "amber",
  error: "red",
};
import {
  fmtChange,
  fmtDay,
  fmtDuration,
  fmtInt,
  fmtTime,
  fmtTokens,
  fmtUsd,
} from "../lib/format";

function StatCard({
  label,
  stat,
  format,
  icon: Icon,
  testId,
  lowerIsBetter = false,
}: {
  label: string;
  stat: Stat | undefined;
  format: (n: number | null) => string;
  icon: LucideIcon;
  testId: string;
  lowerIsBetter?: boolean;
}) {
  const change = fmtChange(stat?.change);
  const up = (stat?.change ?? 0) > 0;
  const good = stat?.change == null || stat.change === 0 ? null : up !== lowerIsBetter;
  return (
    <Card testId={testId}>
      <div className="flex items-start justify-between">
        <div>
          <p className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">
            {label}
          </p>
          <p data-testid="stat-value" className="mt-1 text-2xl font-semibold tabular-nums">
            {stat ? format(stat.value) : "—"}
          </p>
        </div>
        <Icon className="h-5 w-5 text-slate-400" aria-hidden />
      </div>
      <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
        {change ? (
          <>
          <span
            className={cx(
              "font-medium",
              good === true && "text-emerald-600 dark:text-emerald-400",
              good === false && "text-red-600 dark:text-red-400",
            )}
          >
            {change}
          </span>{" "}
          vs previous period
          </>
        ) : (
          <span>nothing to compare with yet</span>
        )}
      </p>
    </Card>
  );
}

const axis = { fontSize: 11, fill: "currentColor" };
const tooltipStyle = {
  contentStyle: { fontSize: 12, borderRadius: 8 },
  labelStyle: { color: "#0f172a" },
};

function Charts() {
  const history = useUsageHistory();
  if (history.isPending) return <Spinner />;
  if (history.isError) return <ErrorBox error={history.error} onRetry={() => history.refetch()} />;
  const { taskVolume, usageByProvider, costTrend } = history.data;
  // "other": cancelled, interrupted, still queued or running.
  const volume = taskVolume.map((d) => ({
    ...d,
    other: Math.max(0, d.total - d.succeeded - d.failed),
    day: fmtDay(d.date),
  }));
  const cost = costTrend.map((d) => ({ ...d, day: fmtDay(d.date) }));
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card title="Task volume (7 days)" testId="task-volume">
        <div className="h-56 text-slate-500 dark:text-slate-400">
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={volume} margin={{ left: -20, right: 4, top: 4 }}>
              <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.3} />
              <XAxis dataKey="day" tick={axis} />
              <YAxis allowDecimals={false} tick={axis} />
              <Tooltip {...tooltipStyle} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Bar dataKey="succeeded" stackId="a" fill="#10b981" name="succeeded" isAnimationActive={false} />
              <Bar dataKey="failed" stackId="a" fill="#ef4444" name="failed" isAnimationActive={false} />
              <Bar dataKey="other" stackId="a" fill="#94a3b8" name="other" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
        <p className="sr-only" data-testid="task-volume-total">
          {taskVolume.reduce((n, d) => n + d.total, 0)}
        </p>
      </Card>
      <Card title="API cost trend: subscription value vs API spend" testId="cost-trend">
        <div className="h-56 text-slate-500 dark:text-slate-400">
          <ResponsiveContainer width="100%" height="100%">
            <AreaChart data={cost} margin={{ left: 0, right: 4, top: 4 }}>
              <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.3} />
              <XAxis dataKey="day" tick={axis} />
              <YAxis tick={axis} width={56} tickFormatter={(v: number) => fmtUsd(v)} />
              <Tooltip {...tooltipStyle} formatter={(v) => fmtUsd(Number(v))} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Area
                type="monotone"
                dataKey="subscriptionValueUsd"
                name="subscription value"
                stroke="#6366f1"
                fill="#6366f1"
                fillOpacity={0.2}
                isAnimationActive={false}
              />
              <Area
                type="monotone"
                dataKey="apiSpendUsd"
                name="API spend"
                stroke="#f59e0b"
                fill="#f59e0b"
                fillOpacity={0.2}
                isAnimationActive={false}
              />
            </AreaChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <Card title="Usage by provider" testId="usage-by-provider" className="lg:col-span-2">
        {usageByProvider.length === 0 ? (
          <Empty>No usage recorded yet.</Empty>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-sm">
              <thead className="text-left text-xs uppercase text-slate-500 dark:text-slate-400">
                <tr>
                  <th className="py-1 pr-3">Provider</th>
                  <th className="py-1 pr-3 text-right">Tasks</th>
                  <th className="py-1 pr-3 text-right">Input tokens</th>
                  <th className="py-1 pr-3 text-right">Output tokens</th>
                  <th className="py-1 text-right">API value</th>
                </tr>
              </thead>
              <tbody>
                {usageByProvider.map((row) => (
                  <tr
                    key={row.provider}
                    data-testid="provider-usage-row"
                    className="border-t border-slate-100 dark:border-slate-800"
                  >
                    <td className="py-1.5 pr-3 font-medium">{row.provider}</td>
                    <td className="py-1.5 pr-3 text-right tabular-nums">{fmtInt(row.tasks)}</td>
                    <td className="py-1.5 pr-3 text-right tabular-nums">{fmtTokens(row.inputTokens)}</td>
                    <td className="py-1.5 pr-3 text-right tabular-nums">{fmtTokens(row.outputTokens)}</td>
                    <td className="py-1.5 text-right tabular-nums">{fmtUsd(row.apiCostUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}

function Alerts() {
  const alerts = useAlerts(5);
  return (
    <Card title="Recent alerts" testId="recent-alerts" action={<Bell className="h-4 w-4 text-slate-400" />}>
      {alerts.isPending ? (
        <Spinner />
      ) : alerts.isError ? (
        <ErrorBox error={alerts.error} onRetry={() => alerts.refetch()} />
      ) : alerts.data.items.length === 0 ? (
        <div data-testid="alerts-empty" className="p-4 text-center text-sm text-slate-500 dark:text-slate-400">
          <p>No alerts yet.</p>
          <p className="mt-1 text-xs">
            The notifications ADO sends to Slack, email or a webhook appear here, delivered or not:
            failed tasks, rate limits reached, cost limits, no provider left for a task. Set up the
            channels in <Link to="/settings" className="underline">Settings</Link>.
          </p>
        </div>
      ) : (
        <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
          {alerts.data.items.map((alert) => (
            <li key={alert.id} data-testid="alert" className="flex flex-wrap items-start gap-x-3 gap-y-1 py-2">
              <span className="w-20 shrink-0 text-xs text-slate-500">{fmtTime(alert.createdAt)}</span>
              <Badge tone={LEVEL_TONE[alert.level] ?? "slate"}>{alert.level}</Badge>
              <span className="min-w-0 flex-1 break-words">
                <span className="font-medium">{alert.title}</span>
                {alert.message && <span className="block text-xs text-slate-500">{alert.message}</span>}
              </span>
              <span className="text-xs text-slate-500">
                {alert.channel} · {alert.status}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export default function Dashboard() {
  const stats = useStats();
  return (
    <div>
      <PageHeader title="Dashboard" />
      {stats.isError && <ErrorBox error={stats.error} onRetry={() => stats.refetch()} />}
      <div className="mb-4 grid grid-cols-2 gap-3 lg:grid-cols-4">
        <StatCard
          testId="stat-active"
          label="Active tasks"
          stat={stats.data?.activeTasks}
          format={fmtInt}
          icon={Activity}
        />
        <StatCard
          testId="stat-completed"
          label="Completed today"
          stat={stats.data?.completedToday}
          format={fmtInt}
          icon={CheckCircle2}
        />
        <StatCard
          testId="stat-cost"
          label="API cost (24h)"
          stat={stats.data?.apiCost24h}
          format={fmtUsd}
          icon={DollarSign}
          lowerIsBetter
        />
        <StatCard
          testId="stat-duration"
          label="Avg duration"
          stat={stats.data?.avgDurationS}
          format={fmtDuration}
          icon={Clock}
          lowerIsBetter
        />
      </div>
      <div className="mb-4">
        <QuotaPanel />
      </div>
      <Charts />
      <div className="mt-4">
        <Alerts />
      </div>
    </div>
  );
}
