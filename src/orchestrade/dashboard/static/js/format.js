// How numbers, money and times read on the page. Money arrives as decimal strings; it is
// only formatted here, never computed with.

const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat(undefined, {
  style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2,
});
const signedPercent = new Intl.NumberFormat(undefined, {
  style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: "exceptZero",
});
const compactNumber = new Intl.NumberFormat(undefined, {
  notation: "compact", maximumFractionDigits: 2,
});
const pad = (value) => String(value).padStart(2, "0");

export const DASH = "—";

function toNumber(value) {
  if (value === null || value === undefined || value === "") return null;
  const number = typeof value === "number" ? value : Number(value);
  return Number.isFinite(number) ? number : null;
}

/** 1,234.5 (two decimals at most); a dash for a missing value. */
export function number(value) {
  const parsed = toNumber(value);
  return parsed === null ? DASH : decimal.format(parsed);
}

/** Money: whole units past 1,000 (a won or a dollar is enough there), else two decimals. */
export function money(value) {
  const parsed = toNumber(value);
  if (parsed === null) return DASH;
  return Math.abs(parsed) >= 1000 ? whole.format(parsed) : decimal.format(parsed);
}

/** Short money for chart axes: 37.5M. */
export function compact(value) {
  const parsed = toNumber(value);
  return parsed === null ? DASH : compactNumber.format(parsed);
}

/** A fraction as a percentage: 0.1234 -> 12.34%. */
export function ratio(value, { signed = false } = {}) {
  const parsed = toNumber(value);
  if (parsed === null) return DASH;
  return (signed ? signedPercent : percent).format(parsed);
}

/** An ISO time in the reader's time zone, as 2024-05-02 09:00 (sorts and scans well);
 * seconds only when there are some, the date alone at midnight (daily bars). */
export function time(value) {
  const parsed = parse(value);
  if (!(parsed instanceof Date)) return parsed;
  const [hours, minutes, seconds] = [parsed.getHours(), parsed.getMinutes(), parsed.getSeconds()];
  if (hours === 0 && minutes === 0 && seconds === 0) return date(parsed); // a daily bar
  return `${date(parsed)} ${pad(hours)}:${pad(minutes)}${seconds ? `:${pad(seconds)}` : ""}`;
}

/** An ISO time (or a Date, or epoch milliseconds) as a date only: 2024-05-02. */
export function date(value) {
  const parsed = parse(value);
  if (!(parsed instanceof Date)) return parsed;
  return `${parsed.getFullYear()}-${pad(parsed.getMonth() + 1)}-${pad(parsed.getDate())}`;
}

/** The clock time only: 09:00:00. */
export function clock(value) {
  const parsed = parse(value);
  if (!(parsed instanceof Date)) return parsed;
  return `${pad(parsed.getHours())}:${pad(parsed.getMinutes())}:${pad(parsed.getSeconds())}`;
}

function parse(value) {
  if (value === null || value === undefined || value === "") return DASH;
  const parsed = value instanceof Date ? value : new Date(value);
  return Number.isNaN(parsed.getTime()) ? String(value) : parsed;
}

/** "up" / "down" / "" for colouring a signed value. */
export function trend(value) {
  const parsed = toNumber(value);
  if (parsed === null || parsed === 0) return "";
  return parsed > 0 ? "up" : "down";
}

export { toNumber };
