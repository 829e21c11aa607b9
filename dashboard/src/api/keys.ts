// Query keys of the TanStack Query cache, shared by the hooks and the live updates.
export const keys = {
  tasks: ["tasks"] as const,
  taskList: (filters: object) => ["tasks", "list", filters] as const,
  task: (id: number) => ["tasks", "detail", id] as const,
  events: (id: number) => ["events", id] as const,
  stats: ["dashboard", "stats"] as const,
  usageHistory: ["dashboard", "usage-history"] as const,
  providers: ["providers"] as const,
  settings: ["settings"] as const,
  alerts: ["alerts"] as const,
  quota: ["quota"] as const,
  workers: ["workers"] as const,
};
