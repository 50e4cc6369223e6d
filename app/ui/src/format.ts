// Numbers and times formatted for people; the exact value goes into a title attribute.

const NUMBER = new Intl.NumberFormat("en-US");

/** 1234567 → "1,234,567"; non-numbers → "–". */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  return NUMBER.format(n);
}

/** Parses an RFC 3339 time; "" or garbage → null. */
export function parseTime(value: string | null | undefined): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1971 ? null : d;
}

const UNITS: [number, string][] = [
  [60, "s"], [60, "min"], [24, "h"], [30, "d"], [12, "mo"], [Number.POSITIVE_INFINITY, "y"],
];

/** Seconds → "45 s", "3 min", "2 h", "5 d" (rounded down). */
export function formatDuration(seconds: number): string {
  let value = Math.max(0, Math.floor(seconds));
  for (const [size, unit] of UNITS) {
    if (value < size) return `${value} ${unit}`;
    value = Math.floor(value / size);
  }
  return `${value} y`;
}

/** A time relative to ``now``: "just now", "3 min ago", "in 2 h"; null → "never". */
export function relativeTime(when: Date | null, now: Date = new Date()): string {
  if (!when) return "never";
  const delta = (now.getTime() - when.getTime()) / 1000;
  if (Math.abs(delta) < 5) return "just now";
  return delta > 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

/** The exact local time, for hover text: "2026-12-02 05:41:47 UTC+01:00". */
export function exactTime(when: Date | null): string {
  if (!when) return "";
  const pad = (n: number): string => String(n).padStart(2, "0");
  const offset = -when.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const zone = `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ` +
    `${pad(when.getHours())}:${pad(when.getMinutes())}:${pad(when.getSeconds())} ${zone}`;
}

/** Bytes → "1.5 MiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** cmon's raw words for people: "CmonHostOnline" → "Online", "ALARM_WARNING" → "Warning". */
export function humanState(raw: string): string {
  if (!raw) return "(none)";
  const host = /^CmonHost(.+)$/.exec(raw);
  if (host) return host[1].replace(/([a-z])([A-Z])/g, "$1 $2");
  const alarm = /^ALARM_(.+)$/.exec(raw);
  const word = alarm ? alarm[1] : raw;
  if (word === word.toUpperCase()) {
    const lower = word.toLowerCase().replace(/_/g, " ");
    return lower.charAt(0).toUpperCase() + lower.slice(1);
  }
  return word;
}
