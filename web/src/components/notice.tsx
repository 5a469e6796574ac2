import type { ReactNode } from "react";

/** A message a person acts on: `role="alert"` for errors so screen readers announce them. */
export function Notice({ kind, children }: { kind: "error" | "info" | "ok"; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}
