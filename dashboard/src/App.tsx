import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router";
import { useNeedsToken } from "./api/auth";
import { useLiveUpdates } from "./api/live";
import { Layout } from "./components/Layout";
import { TokenScreen } from "./components/TokenScreen";
import { Empty, Spinner } from "./components/ui";

// One chunk per page: Recharts only loads with the dashboard page.
const Dashboard = lazy(() => import("./pages/Dashboard"));
const Tasks = lazy(() => import("./pages/Tasks"));
const TaskDetail = lazy(() => import("./pages/TaskDetail"));
const Providers = lazy(() => import("./pages/Providers"));
const Settings = lazy(() => import("./pages/Settings"));
const Workers = lazy(() => import("./pages/Workers"));

function Live() {
  useLiveUpdates();
  return null;
}

export function App() {
  const needsToken = useNeedsToken();
  const client = useQueryClient();
  if (needsToken) return <TokenScreen onSaved={() => void client.invalidateQueries()} />;
  return (
    <Layout>
      <Live />
      <Suspense fallback={<Spinner />}>
        <Routes>
          <Route path="/" element={<Dashboard />} />
          <Route path="/tasks" element={<Tasks />} />
          <Route path="/tasks/:id" element={<TaskDetail />} />
          <Route path="/providers" element={<Providers />} />
          <Route path="/workers" element={<Workers />} />
          <Route path="/settings" element={<Settings />} />
          <Route path="*" element={<Empty>Page not found.</Empty>} />
        </Routes>
      </Suspense>
    </Layout>
  );
}
