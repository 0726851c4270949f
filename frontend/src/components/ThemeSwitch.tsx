import { useId } from "react";

import { useTheme } from "../lib/theme";
import type { ThemeChoice } from "../lib/theme";

const TEXT = {
  label: "Theme",
  choices: { system: "As the system", light: "Light", dark: "Dark" } satisfies Record<ThemeChoice, string>,
};

/** Light, dark, or as the system: kept for the next visit. */
export function ThemeSwitch() {
  const [choice, choose] = useTheme();
  const id = useId();
  return (
    <span className="theme-switch">
      <label htmlFor={id}>{TEXT.label}</label>
      <select id={id} value={choice} onChange={(event) => choose(event.target.value as ThemeChoice)}>
        {(Object.keys(TEXT.choices) as ThemeChoice[]).map((value) => (
          <option key={value} value={value}>
            {TEXT.choices[value]}
          </option>
        ))}
      </select>
    </span>
  );
}
