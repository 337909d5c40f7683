use std::collections::BTreeSet;

use time::macros::datetime;

use super::*;

/// The message ids a catalogue defines.
fn ids(source: &str) -> BTreeSet<String> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => resource,
        Err((_, errors)) => panic!("the catalogue does not parse: {errors:?}"),
    };
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

/// The ids the code and the templates ask for by name: `t("…")`, `t1("…"`, `t2("…"`,
/// `tn("…"`, `Text::new("…"` (the lower layers' sentences), and the ids kept in tables (`"colour-…"`, `"paused-…"`, …) as string
/// literals that look like message ids and exist in the English catalogue's namespace.
fn used_ids() -> BTreeSet<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    for dir in ["templates", "src"] {
        let mut stack = vec![std::path::PathBuf::from(root).join(dir)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "html" || e == "rs")
                    && !path.ends_with("i18n/tests.rs")
                {
                    files.push(path);
                }
            }
        }
    }
    let mut used = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        // Calls with the id written out, and ids kept in tables (match arms, lists),
        // recognised by their prefixes.
        let mut starts: Vec<&str> = vec![".t(\"", ".t1(\"", ".t2(\"", ".tn(\"", "Text::new(\""];
        let tables = [
            "\"paused-",
            "\"outcome-",
            "\"trigger-",
            "\"colour-",
            "\"notice-",
            "\"status-",
            "\"error-",
            "\"bad-request-",
            "\"advice-",
        ];
        starts.extend(tables);
        for start in starts {
            let mut rest = text.as_str();
            while let Some(at) = rest.find(start) {
                // A table entry's quote opens the id; a call's id follows its quote.
                let from = if start.starts_with('"') {
                    1
                } else {
                    start.len()
                };
                rest = &rest[at + from..];
                if let Some(end) = rest.find('"') {
                    used.insert(rest[..end].to_owned());
                }
            }
        }
    }
    used
}

#[test]
fn both_catalogues_hold_the_same_messages() {
    let en = ids(SOURCES[0].1);
    let fr = ids(SOURCES[1].1);
    let only_en: Vec<_> = en.difference(&fr).collect();
    let only_fr: Vec<_> = fr.difference(&en).collect();
    assert!(only_en.is_empty(), "missing in French: {only_en:?}");
    assert!(only_fr.is_empty(), "missing in English: {only_fr:?}");
    assert!(en.len() > 200, "{}", en.len());
}

/// A second definition of an id silently loses to the first one.
#[test]
fn no_message_is_defined_twice() {
    for (code, source) in SOURCES {
        let resource = FluentResource::try_new(source.to_owned()).expect("parses");
        let mut seen = BTreeSet::new();
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(message) = entry {
                assert!(
                    seen.insert(message.id.name),
                    "{code}: {} is defined twice",
                    message.id.name
                );
            }
        }
    }
}

#[test]
fn every_message_the_pages_ask_for_exists() {
    let en = ids(SOURCES[0].1);
    let used = used_ids();
    assert!(used.len() > 150, "{}", used.len());
    let missing: Vec<_> = used
        .iter()
        .filter(|id| !en.contains(*id) && !id.contains('{'))
        .collect();
    assert!(
        missing.is_empty(),
        "asked for but not in the catalogues: {missing:?}"
    );
    // Ids made at run time.
    for month in 1..=12 {
        assert!(en.contains(&format!("month-short-{month}")));
    }
    for unit in ["minutes", "hours", "days"] {
        for side in ["ago", "ahead"] {
            assert!(en.contains(&format!("time-{unit}-{side}")), "{unit} {side}");
        }
    }
}

#[test]
fn every_message_formats_without_error_in_both_languages() {
    for (lang, (_, source)) in Lang::ALL.into_iter().zip(SOURCES) {
        let bundle = &bundles()[lang.index()];
        for id in ids(source) {
            let pattern = bundle
                .get_message(&id)
                .and_then(|m| m.value())
                .unwrap_or_else(|| panic!("{id} has no value"));
            let mut errors = Vec::new();
            let values = args(&[
                ("count", 2.into()),
                ("when", "x".into()),
                ("next", "x".into()),
                ("problem", "x".into()),
                ("email", "x".into()),
                ("provider", "x".into()),
                ("label", "x".into()),
                ("name", "x".into()),
                ("field", "x".into()),
                ("query", "x".into()),
                ("to", "x".into()),
                ("version", "x".into()),
                ("connected", "x".into()),
                ("size", "x".into()),
                ("features", "x".into()),
                ("value", "x".into()),
                ("day", "x".into()),
                ("month", "x".into()),
                ("year", "x".into()),
                ("time", "x".into()),
                ("zone", "x".into()),
                ("now", "x".into()),
                ("host", "x".into()),
                ("port", "x".into()),
                ("security", "x".into()),
                ("source", "x".into()),
                ("phase", "x".into()),
                ("server", "x".into()),
                ("feature", "x".into()),
                ("command", "x".into()),
                ("code", "x".into()),
                ("recipient", "x".into()),
                ("limit", "x".into()),
                ("address", "x".into()),
                ("fingerprint", "x".into()),
                ("names", "x".into()),
                ("date", "x".into()),
                ("found", "x".into()),
                ("domain", "x".into()),
            ]);
            let text = bundle.format_pattern(pattern, Some(&values), &mut errors);
            assert!(errors.is_empty(), "{lang:?} {id}: {errors:?}");
            assert!(!text.trim().is_empty(), "{lang:?} {id}");
        }
    }
}

#[test]
fn plurals_follow_each_language() {
    let en = Locale::default();
    let fr = Locale::new(Lang::Fr, Zone::utc());
    let now = datetime!(2026-12-04 12:00 UTC);
    assert_eq!(
        en.relative(datetime!(2026-12-04 11:59 UTC), now),
        "1 minute ago"
    );
    assert_eq!(
        en.relative(datetime!(2026-12-04 11:57 UTC), now),
        "3 minutes ago"
    );
    assert_eq!(
        fr.relative(datetime!(2026-12-04 11:59 UTC), now),
        "il y a 1 minute"
    );
    assert_eq!(
        fr.relative(datetime!(2026-12-04 11:57 UTC), now),
        "il y a 3 minutes"
    );
    assert_eq!(
        fr.relative(datetime!(2026-12-04 14:00 UTC), now),
        "dans 2 heures"
    );
    assert_eq!(
        fr.relative(datetime!(2026-12-04 11:59:50 UTC), now),
        "à l'instant"
    );
    assert_eq!(fr.t1("unread-count", "count", 1), "1 non lu");
    assert_eq!(fr.t1("unread-count", "count", 4), "4 non lus");
    // French counts 0 as singular.
    assert_eq!(
        fr.t1("account-remove-fetched", "count", 0),
        "Le message déjà relevé"
    );
    assert_eq!(
        en.t1("account-remove-fetched", "count", 0),
        "The 0 messages already fetched"
    );
}

#[test]
fn dates_are_shown_in_the_persons_zone_and_language() {
    let paris = Zone::named("Europe/Paris").expect("the zone database knows Paris");
    let fr = Locale::new(Lang::Fr, paris.clone());
    let en = Locale::new(Lang::En, paris);
    let utc = Locale::default();
    let at = datetime!(2026-03-02 23:30 UTC);
    assert_eq!(fr.full_date(at), "3 mars 2026 à 00:30");
    assert_eq!(en.full_date(at), "3 Mar 2026 00:30");
    assert_eq!(utc.full_date(at), "2 Mar 2026 23:30 UTC");
    let now = datetime!(2026-03-03 08:00 UTC);
    assert_eq!(fr.short_date(at, now), "00:30", "the same day in Paris");
    assert_eq!(utc.short_date(at, now), "2 Mar");
    assert_eq!(
        fr.short_date(datetime!(2024-05-01 12:00 UTC), now),
        "2024-05-01"
    );
    assert!(Zone::named("Not/AZone").is_none());
    assert!(Zone::all_names().iter().any(|name| name == "Europe/Paris"));
}

#[test]
fn accept_language_picks_the_best_spoken_language() {
    assert_eq!(
        Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
        Some(Lang::Fr)
    );
    assert_eq!(
        Lang::from_accept_language("de,en;q=0.5,fr;q=0.7"),
        Some(Lang::Fr)
    );
    assert_eq!(Lang::from_accept_language("de, it"), None);
    assert_eq!(Lang::from_accept_language("fr;q=0, en"), Some(Lang::En));
    assert_eq!(Lang::from_accept_language(""), None);
    assert_eq!(Lang::parse("fr_CA"), Some(Lang::Fr));
}
