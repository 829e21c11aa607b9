// Shown when the server refuses a request without a valid API token (HTTP 401).
import { KeyRound } from "lucide-react";
import { useState } from "react";
import { setToken } from "../api/auth";
import { buttonClass, inputClass } from "./ui";

export function TokenScreen({ onSaved }: { onSaved: () => void }) {
  const [value, setValue] = useState("");
  return (
    <div className="flex min-h-screen items-center justify-center p-4">
      <form
        className="w-full max-w-sm space-y-3 rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) {
            setToken(value.trim());
            onSaved();
          }
        }}
      >
        <div className="flex items-center gap-2 text-lg font-semibold">
          <KeyRound className="h-5 w-5" aria-hidden /> API token
        </div>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          This server requires an API token. Create one with <code>ado tokens create</code> and
          paste it here; it is kept in this browser.
        </p>
        <label className="block text-sm">
          <span className="mb-1 block font-medium">Token</span>
          <input
            className={inputClass}
            type="password"
            autoComplete="off"
            name="token"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </label>
        <button type="submit" className={buttonClass}>
          Continue
        </button>
      </form>
    </div>
  );
}
