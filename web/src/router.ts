// Routes in the URL's hash (#/patient/0x…), so the web server serves one page for every route.
import { useSyncExternalStore } from "react";

const subscribe = (onChange: () => void) => {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
};

export function useRoute(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash.replace(/^#/, "") || "/");
}

export function navigate(path: string): void {
  window.location.hash = path;
}
