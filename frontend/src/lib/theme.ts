/**
 * The colour theme: light, dark, or the system's (the default), kept in localStorage (a
 * preference, not a secret). public/theme.js applies it before the first paint; this module
 * switches it and follows the system while "system" is chosen.
 */
import { useCallback, useEffect, useState } from "react";

export type ThemeChoice = "light" | "dark" | "system";
export const THEME_KEY = "farm-theme";
const DARK = "(prefers-color-scheme: dark)";

export function savedTheme(): ThemeChoice {
  try {
    const saved = localStorage.getItem(THEME_KEY);
    return saved === "light" || saved === "dark" ? saved : "system";
  } catch {
    return "system";
  }
}

/** What the page shows for a choice: the system's scheme for "system". */
export function resolvedTheme(choice: ThemeChoice, systemDark = window.matchMedia(DARK).matches): "light" | "dark" {
  return choice === "system" ? (systemDark ? "dark" : "light") : choice;
}

export function applyTheme(choice: ThemeChoice): void {
  document.documentElement.dataset.theme = resolvedTheme(choice);
}

/** The saved choice and a way to change it; the page follows the system while it is "system". */
export function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(savedTheme);
  useEffect(() => {
    applyTheme(choice);
    if (choice !== "system") return;
    const media = window.matchMedia(DARK);
    const follow = () => applyTheme("system");
    media.addEventListener("change", follow);
    return () => media.removeEventListener("change", follow);
  }, [choice]);
  const choose = useCallback((next: ThemeChoice) => {
    try {
      if (next === "system") localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, next);
    } catch {
      // Storage refused (private mode): the choice holds for this page only.
    }
    setChoice(next);
  }, []);
  return [choice, choose];
}
