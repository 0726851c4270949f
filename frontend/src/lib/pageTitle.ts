import { useEffect } from "react";

const APP = "FARM Auth";

/** The browser tab names the screen (WCAG 2.4.2): "Sessions · FARM Auth". */
export function usePageTitle(title: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} · ${APP}` : APP;
  }, [title]);
}
