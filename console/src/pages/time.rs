//! Times as people read them: a date and time in UTC, which the server renders, and the same moment in the
//! browser's own time zone, which the page adds once it runs in the browser (so the server's markup and the
//! hydrated page agree, and nobody reads epoch milliseconds).

use leptos::prelude::*;

use crate::i18n::{Lang, t};

const DAY_MS: i64 = 86_400_000;

/// The civil date of a day count since 1970-01-01 (proleptic Gregorian; Howard Hinnant's `civil_from_days`).
#[allow(
    clippy::arithmetic_side_effects,
    reason = "the day count is clamped to ±10⁸ days: every step stays far inside i64"
)]
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.clamp(-100_000_000, 100_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

/// `YYYY-MM-DD HH:MM:SS` of epoch milliseconds shifted by `offset_minutes` east of UTC.
fn date_time(ms: i64, offset_minutes: i32) -> String {
    let ms = ms.saturating_add(i64::from(offset_minutes).saturating_mul(60_000));
    let (days, in_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS) / 1_000);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", in_day / 3_600, (in_day / 60) % 60, in_day % 60)
}

/// The date `YYYY-MM-DD` (UTC) of epoch milliseconds.
pub fn utc_date(ms: i64) -> String {
    date_time(ms, 0).chars().take(10).collect()
}

/// The UTC time of day `HH:MM:SS` of epoch milliseconds.
pub fn utc_clock(ms: i64) -> String {
    date_time(ms, 0).chars().skip(11).collect()
}

/// Epoch milliseconds as a UTC date and time: `2026-12-05 14:03:21 UTC`.
pub fn utc_text(ms: i64) -> String {
    format!("{} UTC", date_time(ms, 0))
}

/// Epoch milliseconds in a time zone `offset_minutes` east of UTC, saying so: `2026-12-05 22:03:21 (local,
/// UTC+08:00)`.
pub fn local_text(lang: Lang, ms: i64, offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    let zone = format!("UTC{sign}{:02}:{:02}", off / 60, off % 60);
    let local = t("local", "本地时间").get(lang);
    let sep = match lang {
        Lang::En => ", ",
        Lang::ZhCn => "，",
    };
    let (open, close) = match lang {
        Lang::En => ("(", ")"),
        Lang::ZhCn => ("（", "）"),
    };
    format!("{} {open}{local}{sep}{zone}{close}", date_time(ms, offset_minutes))
}

/// The browser's time-zone offset at `ms`, in minutes east of UTC (daylight saving included).
#[cfg(feature = "hydrate")]
fn browser_offset(ms: i64) -> i32 {
    #[allow(clippy::cast_precision_loss, reason = "epoch milliseconds fit a double's integers for 285,000 years")]
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    #[allow(clippy::cast_possible_truncation, reason = "an offset in minutes is at most a day")]
    let west = date.get_timezone_offset() as i32;
    west.saturating_neg()
}

#[cfg(not(feature = "hydrate"))]
fn browser_offset(_ms: i64) -> i32 {
    0
}

/// A moment: its UTC date and time, and (in the browser) the same moment in the reader's time zone, in `lang`. A `compact`
/// moment, for lists, shows the local time alone once it is known, with UTC in its tooltip.
#[component]
pub fn Moment(ms: i64, lang: Lang, #[prop(optional)] compact: bool) -> impl IntoView {
    let offset = RwSignal::new(None::<i32>);
    // Effects run only in the browser: the server and the first hydrated render both show UTC alone.
    Effect::new(move |_| offset.set(Some(browser_offset(ms))));
    let (utc, title) = (utc_text(ms), utc_text(ms));
    view! {
        <span class=if compact { "moment compact" } else { "moment" } title=title>
            <span class="local" data-testid="time-local">{move || offset.get().map(|off| local_text(lang, ms, off))}</span>
            <span class="utc" data-testid="time-utc">{utc}</span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch milliseconds read as their UTC calendar date and time, across a leap day and the epoch itself.
    #[test]
    fn utc_times_read_as_dates() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(1_796_447_231_621), "2026-12-05 05:07:11 UTC");
        assert_eq!(utc_text(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(1_709_164_800_000), "2024-02-29");
        assert_eq!(utc_text(-1_000), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc_clock(1_796_447_231_621), "05:07:11");
    }

    /// A local time is the UTC moment shifted by the zone's offset, which it names, in either language.
    #[test]
    fn local_times_name_their_zone() {
        assert_eq!(local_text(Lang::En, 1_796_447_231_621, 480), "2026-12-05 13:07:11 (local, UTC+08:00)");
        assert_eq!(local_text(Lang::ZhCn, 1_796_447_231_621, -330), "2026-12-04 23:37:11 （本地时间，UTC-05:30）");
        assert_eq!(local_text(Lang::En, 0, 0), "1970-01-01 00:00:00 (local, UTC+00:00)");
    }
}
