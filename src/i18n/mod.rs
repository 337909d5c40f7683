//! The interface's languages: one Fluent message catalogue per language (`en.ftl`,
//! `fr.ftl`, compiled into the binary), the choice of language (the person's setting, else
//! the browser's `Accept-Language`, else English) and dates and times in the person's time
//! zone. Pages, forms and status lines take every word from here; a unit test fails when
//! a message is missing from either catalogue or a page asks for one that does not exist.

mod text;

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use time::OffsetDateTime;

pub use text::{Arg, Text, io_text};

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Self; 2] = [Self::En, Self::Fr];

    /// The BCP 47 code: `<html lang>`, the setting's stored value.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Fr => "Français",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|lang| lang.code() == primary)
    }

    /// The first language of an `Accept-Language` header (by its `q` weights) that the
    /// interface speaks.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut choices: Vec<(u16, usize, Self)> = header
            .split(',')
            .enumerate()
            .filter_map(|(position, item)| {
                let mut parts = item.split(';');
                let lang = Self::parse(parts.next()?)?;
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1000), |q| {
                        q.trim().parse::<f32>().ok().map(|q| (q * 1000.0) as u16)
                    })?;
                (weight > 0).then_some((weight, position, lang))
            })
            .collect();
        choices.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        choices.first().map(|choice| choice.2)
    }

    fn index(self) -> usize {
        match self {
            Self::En => 0,
            Self::Fr => 1,
        }
    }
}

const SOURCES: [(&str, &str); 2] = [
    ("en", include_str!("en.ftl")),
    ("fr", include_str!("fr.ftl")),
];

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle; 2] {
    static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();
    BUNDLES.get_or_init(|| SOURCES.map(|(code, source)| bundle(code, source)))
}

fn bundle(code: &str, source: &str) -> Bundle {
    // The catalogues are part of the binary and checked by the tests below: a syntax
    // error is a build mistake, and the entries that parse are still used.
    let resource =
        FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
    let language = code.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![language]);
    // No Unicode isolation marks around values: the pages are left-to-right HTML and the
    // marks would end up inside attributes and plain-text mail.
    bundle.set_use_isolating(false);
    let _ = bundle.add_resource(resource);
    bundle
}

/// The message `id` in `lang` with `args`; English when the language lacks it (the
/// tests make that never happen), the id itself when no catalogue has it.
pub fn message(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> String {
    for bundle in [&bundles()[lang.index()], &bundles()[Lang::En.index()]] {
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle
                .format_pattern(pattern, args, &mut errors)
                .into_owned();
        }
    }
    id.to_owned()
}

/// Named values for a message: `args(&[("count", 3.into())])`.
pub fn args<'a>(pairs: &[(&'a str, FluentValue<'a>)]) -> FluentArgs<'a> {
    let mut args = FluentArgs::new();
    for (name, value) in pairs {
        args.set(*name, value.clone());
    }
    args
}

/// How one person reads the interface: the language and the time zone.
#[derive(Debug, Clone)]
pub struct Locale {
    pub lang: Lang,
    pub zone: Zone,
}

/// A time zone by its IANA name (`Europe/Paris`), or UTC.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl Zone {
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    /// The zone with this IANA name, if the time zone database knows it.
    pub fn named(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 {
            return None;
        }
        let tz = jiff::tz::TimeZone::get(name).ok()?;
        Some(Self {
            name: name.to_owned(),
            tz,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every zone the database knows, for the setting's list.
    pub fn all_names() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.to_string())
            .filter(|name| name.contains('/') && !name.starts_with("Etc/"))
            .collect();
        names.sort();
        names.dedup();
        names.insert(0, "UTC".into());
        names
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self {
            lang: Lang::En,
            zone: Zone::utc(),
        }
    }
}

/// A moment as its parts in a zone.
struct Parts {
    year: i16,
    month: i8,
    day: i8,
    hour: i8,
    minute: i8,
}

impl Locale {
    pub fn new(lang: Lang, zone: Zone) -> Self {
        Self { lang, zone }
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        message(self.lang, id, None)
    }

    /// The message `id` with one named value.
    pub fn t1<'a>(&self, id: &str, name: &'a str, value: impl Into<FluentValue<'a>>) -> String {
        message(self.lang, id, Some(&args(&[(name, value.into())])))
    }

    /// The message `id` with two named values.
    pub fn t2<'a>(
        &self,
        id: &str,
        name1: &'a str,
        value1: impl Into<FluentValue<'a>>,
        name2: &'a str,
        value2: impl Into<FluentValue<'a>>,
    ) -> String {
        let pairs = [(name1, value1.into()), (name2, value2.into())];
        message(self.lang, id, Some(&args(&pairs)))
    }

    /// The message `id` with named values.
    pub fn tn<'a>(&self, id: &str, pairs: &[(&'a str, FluentValue<'a>)]) -> String {
        message(self.lang, id, Some(&args(pairs)))
    }

    /// A lower layer's sentence in this language; its inner sentences too.
    pub fn say(&self, text: &Text) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in &text.args {
            let value = match value {
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Plain(plain) => FluentValue::from(plain.as_str()),
                Arg::Text(inner) => FluentValue::from(self.say(inner)),
            };
            args.set(name.as_ref(), value);
        }
        message(self.lang, &text.id, Some(&args))
    }

    /// [`Self::say`] as a sentence of its own: its first letter upper-case.
    pub fn sentence(&self, text: &Text) -> String {
        let said = self.say(text);
        let mut chars = said.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => said,
        }
    }

    /// A sentence a lower layer stored: its catalogue form in this language, else the
    /// English stored beside it (rows from before the catalogue form existed).
    pub fn stored(&self, text: Option<&str>, english: Option<&str>) -> Option<String> {
        text.and_then(Text::from_json_str)
            .map(|text| self.sentence(&text))
            .or_else(|| english.map(str::to_owned))
    }

    fn parts(&self, at: OffsetDateTime) -> Parts {
        let zoned = jiff::Timestamp::from_second(at.unix_timestamp())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(self.zone.tz.clone());
        Parts {
            year: zoned.year(),
            month: zoned.month(),
            day: zoned.day(),
            hour: zoned.hour(),
            minute: zoned.minute(),
        }
    }

    fn month(&self, month: i8) -> String {
        self.t(&format!("month-short-{month}"))
    }

    /// "2 Mar 2026" / "2 mars 2026".
    pub fn day(&self, at: OffsetDateTime) -> String {
        let p = self.parts(at);
        format!("{} {} {}", p.day, self.month(p.month), p.year)
    }

    /// "2 Mar 2026, 09:05" in the person's zone (its name shown when it is UTC, so a
    /// reader without a zone set knows what the time means).
    pub fn full_date(&self, at: OffsetDateTime) -> String {
        let p = self.parts(at);
        let text = self.tn(
            "date-full",
            &[
                ("day", p.day.to_string().into()),
                ("month", self.month(p.month).into()),
                ("year", p.year.to_string().into()),
                ("time", format!("{:02}:{:02}", p.hour, p.minute).into()),
            ],
        );
        if self.zone.name == "UTC" {
            format!("{text} UTC")
        } else {
            text
        }
    }

    /// Dates as lists show them: the time for today, the day for this year, else the
    /// whole date.
    pub fn short_date(&self, at: OffsetDateTime, now: OffsetDateTime) -> String {
        let (p, today) = (self.parts(at), self.parts(now));
        if (p.year, p.month, p.day) == (today.year, today.month, today.day) {
            format!("{:02}:{:02}", p.hour, p.minute)
        } else if p.year == today.year {
            format!("{} {}", p.day, self.month(p.month))
        } else {
            format!("{:04}-{:02}-{:02}", p.year, p.month, p.day)
        }
    }

    /// "3 minutes ago", "in 2 hours" / "il y a 3 minutes", "dans 2 heures".
    pub fn relative(&self, at: OffsetDateTime, now: OffsetDateTime) -> String {
        let seconds = (now - at).whole_seconds();
        let (amount, future) = if seconds < 0 {
            (-seconds, true)
        } else {
            (seconds, false)
        };
        let (unit, count) = match amount {
            0..=44 => return self.t(if future { "time-soon" } else { "time-now" }),
            45..=5_399 => ("minutes", (amount + 30) / 60),
            5_400..=129_599 => ("hours", (amount + 1_800) / 3_600),
            _ => ("days", (amount + 43_200) / 86_400),
        };
        let id = format!("time-{unit}-{}", if future { "ahead" } else { "ago" });
        self.t1(&id, "count", count)
    }

    /// A size in bytes as people read it: "12 KB", "3.4 MB" / "12 Ko", "3,4 Mo".
    pub fn size(&self, bytes: u64) -> String {
        const K: f64 = 1024.0;
        let b = bytes as f64;
        let (number, unit) = if b < K {
            return self.t1("size-bytes", "count", bytes);
        } else if b < K * K {
            (format!("{:.0}", b / K), "size-kb")
        } else if b < K * K * K {
            (format!("{:.1}", b / K / K), "size-mb")
        } else {
            (format!("{:.1}", b / K / K / K), "size-gb")
        };
        let number = match self.lang {
            Lang::Fr => number.replace('.', ","),
            Lang::En => number,
        };
        self.t1(unit, "value", number)
    }
}

#[cfg(test)]
mod tests;
