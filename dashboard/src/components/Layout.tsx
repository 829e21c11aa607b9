// The frame around every page: navigation (a sidebar on wide screens, a bar on phones),
// the live-connection indicator and the dark-mode toggle.
import { Cpu, Gauge, ListTodo, Moon, Plug, Settings, Sun } from "lucide-react";
import { useEffect, useState, type ReactNode } from "react";
import { NavLink } from "react-router";
import { useLiveState } from "../api/live";
import { cx } from "./ui";

const NAV = [
  { to: "/", label: "Dashboard", icon: Gauge, end: true },
  { to: "/tasks", label: "Tasks", icon: ListTodo, end: false },
  { to: "/providers", label: "Providers", icon: Plug, end: false },
  { to: "/workers", label: "Workers", icon: Cpu, end: false },
  { to: "/settings", label: "Settings", icon: Settings, end: false },
];

function useTheme(): [boolean, () => void] {
  const [dark, setDark] = useState(() => document.documentElement.classList.contains("dark"));
  useEffect(() => {
    document.documentElement.classList.toggle("dark", dark);
  }, [dark]);
  useEffect(() => {
    // Follow the system while the user has not chosen.
    const media = matchMedia("(prefers-color-scheme: dark)");
    const onChange = (e: MediaQueryListEvent) => {
      if (!localStorage.getItem("ado.theme")) setDark(e.matches);
    };
    media.addEventListener("change", onChange);
    return () => media.removeEventListener("change", onChange);
  }, []);
  const toggle = () =>
    setDark((d) => {
      localStorage.setItem("ado.theme", d ? "light" : "dark");
      return !d;
    });
  return [dark, toggle];
}

function LiveDot() {
  const state = useLiveState();
  const label = state === "open" ? "Live" : state === "connecting" ? "Connecting" : "Offline";
  return (
    <span
      data-testid="live-state"
      data-state={state}
      title={`Live updates: ${label.toLowerCase()}`}
      className="inline-flex items-center gap-1.5 text-xs text-slate-500 dark:text-slate-400"
    >
      <span
        className={cx(
          "h-2 w-2 rounded-full",
          state === "open" ? "bg-emerald-500" : state === "connecting" ? "bg-amber-400" : "bg-red-500",
        )}
      />
      {label}
    </span>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const [dark, toggleTheme] = useTheme();
  const themeButton = (
    <button
      type="button"
      onClick={toggleTheme}
      data-testid="theme-toggle"
      aria-label={dark ? "Switch to light mode" : "Switch to dark mode"}
      className="rounded-md p-1.5 text-slate-500 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800"
    >
      {dark ? <Sun className="h-4 w-4" /> : <Moon className="h-4 w-4" />}
    </button>
  );
  const links = (compact: boolean) =>
    NAV.map(({ to, label, icon: Icon, end }) => (
      <NavLink
        key={to}
        to={to}
        end={end}
        className={({ isActive }) =>
          cx(
            "flex items-center rounded-md font-medium",
            compact ? "flex-col gap-0.5 px-1 py-1 text-xs" : "gap-2 px-3 py-2 text-sm",
            isActive
              ? "bg-blue-50 text-blue-700 dark:bg-blue-950 dark:text-blue-300"
              : "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800",
          )
        }
      >
        <Icon className="h-4 w-4" aria-hidden />
        <span>{label}</span>
      </NavLink>
    ));
  return (
    <div className="min-h-screen md:flex">
      <aside className="hidden w-56 shrink-0 flex-col border-r border-slate-200 bg-white p-3 md:flex dark:border-slate-800 dark:bg-slate-900">
        <div className="mb-4 flex items-center justify-between px-2">
          <span className="text-lg font-bold tracking-tight">ADO</span>
          {themeButton}
        </div>
        <nav className="flex flex-col gap-1" aria-label="Main">
          {links(false)}
        </nav>
        <div className="mt-auto px-2 pt-4">
          <LiveDot />
        </div>
      </aside>
      <header className="sticky top-0 z-10 border-b border-slate-200 bg-white md:hidden dark:border-slate-800 dark:bg-slate-900">
        <div className="flex items-center justify-between px-3 pt-2">
          <span className="font-bold">ADO</span>
          <div className="flex items-center gap-2">
            <LiveDot />
            {themeButton}
          </div>
        </div>
        <nav className="grid grid-cols-4 gap-1 px-2 py-1" aria-label="Main">
          {links(true)}
        </nav>
      </header>
      <main className="min-w-0 flex-1 p-3 md:p-6">{children}</main>
    </div>
  );
}
