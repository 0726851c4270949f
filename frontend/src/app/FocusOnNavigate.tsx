import { useEffect, useRef } from "react";
import { useLocation } from "react-router";

/**
 * After a navigation inside the app, keyboard focus goes to the new screen's heading, as a page
 * load would put it at the top (WCAG 2.4.3): not left on a control that is gone, nor on <body>.
 * The first load keeps the browser's own start. Following the link of the page already shown
 * counts as a navigation too, as a reload would.
 */
export function FocusOnNavigate() {
  // Every navigation, a click on the link of the page already shown included (a new key).
  const { key } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    // The new screen renders after this effect when it loads data: look again a few times.
    let tries = 0;
    const timer = window.setInterval(() => {
      tries += 1;
      const heading = document.querySelector<HTMLElement>("main h1:not(.brand), main h2");
      if (heading || tries > 20) window.clearInterval(timer);
      if (!heading) return;
      if (document.activeElement && document.activeElement !== document.body && heading.contains(document.activeElement)) return;
      // A field the new screen focused on purpose (autoFocus) keeps it.
      const active = document.activeElement;
      if (active?.matches("main input, main textarea, main select")) return;
      if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }, 50);
    return () => window.clearInterval(timer);
  }, [key]);
  return null;
}
