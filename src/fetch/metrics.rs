//! Counters for `/metrics` (Prometheus text format), kept in atomics: the fetch path
//! never waits on a lock to count.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::model::{ErrorClass, RunOutcome};

/// Upper bounds (seconds) of the run-duration histogram's buckets.
const DURATION_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0];

#[derive(Debug, Default)]
pub struct Metrics {
    runs: [AtomicU64; RunOutcome::FINISHED.len()],
    messages: AtomicU64,
    bytes: AtomicU64,
    skipped: AtomicU64,
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_micros: AtomicU64,
    leases_held: AtomicI64,
    errors: [AtomicU64; ErrorClass::FETCH.len()],
}

impl Metrics {
    pub fn message_stored(&self, bytes: u64) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn message_skipped(&self) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
    }

    pub fn run_finished(&self, outcome: RunOutcome, took: Duration) {
        if let Some(index) = RunOutcome::FINISHED.iter().position(|o| *o == outcome) {
            self.runs[index].fetch_add(1, Ordering::Relaxed);
        }
        let seconds = took.as_secs_f64();
        for (bound, bucket) in DURATION_BUCKETS.iter().zip(&self.duration_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Counts a failed run by its error's class (every class of `ErrorClass::FETCH`).
    pub fn error(&self, class: ErrorClass) {
        if let Some(index) = ErrorClass::FETCH.iter().position(|c| *c == class) {
            self.errors[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn lease_taken(&self) {
        self.leases_held.fetch_add(1, Ordering::Relaxed);
    }

    pub fn lease_released(&self) {
        self.leases_held.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn runs(&self, outcome: RunOutcome) -> u64 {
        RunOutcome::FINISHED
            .iter()
            .position(|o| *o == outcome)
            .map_or(0, |index| self.runs[index].load(Ordering::Relaxed))
    }

    /// The exposition text. `lag` is the number of accounts due but not started,
    /// read from the database by the caller (it spans every replica).
    pub fn render(&self, lag: Option<i64>) -> String {
        let mut out = String::with_capacity(4096);
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        out.push_str("# HELP tributary_fetch_runs_total Finished fetch runs by outcome.\n");
        out.push_str("# TYPE tributary_fetch_runs_total counter\n");
        for (outcome, counter) in RunOutcome::FINISHED.iter().zip(&self.runs) {
            let _ = writeln!(
                out,
                "tributary_fetch_runs_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                load(counter)
            );
        }
        for (name, help, counter) in [
            (
                "tributary_messages_fetched_total",
                "Messages stored.",
                &self.messages,
            ),
            (
                "tributary_bytes_fetched_total",
                "Bytes of messages stored.",
                &self.bytes,
            ),
            (
                "tributary_messages_skipped_total",
                "Messages skipped for their size.",
                &self.skipped,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                load(counter)
            );
        }
        out.push_str("# HELP tributary_fetch_run_duration_seconds Duration of fetch runs.\n");
        out.push_str("# TYPE tributary_fetch_run_duration_seconds histogram\n");
        for (bound, bucket) in DURATION_BUCKETS.iter().zip(&self.duration_buckets) {
            let _ = writeln!(
                out,
                "tributary_fetch_run_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                load(bucket)
            );
        }
        let count = load(&self.duration_count);
        let _ = writeln!(
            out,
            "tributary_fetch_run_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             tributary_fetch_run_duration_seconds_sum {}\n\
             tributary_fetch_run_duration_seconds_count {count}",
            load(&self.duration_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP tributary_fetch_leases_held Accounts this process is fetching now.\n\
             # TYPE tributary_fetch_leases_held gauge\ntributary_fetch_leases_held {}",
            self.leases_held.load(Ordering::Relaxed)
        );
        if let Some(lag) = lag {
            let _ = writeln!(
                out,
                "# HELP tributary_accounts_due_unclaimed Accounts due but not yet started.\n\
                 # TYPE tributary_accounts_due_unclaimed gauge\ntributary_accounts_due_unclaimed {lag}"
            );
        }
        out.push_str("# HELP tributary_pop3_errors_total Fetch errors by class.\n");
        out.push_str("# TYPE tributary_pop3_errors_total counter\n");
        for (class, counter) in ErrorClass::FETCH.iter().zip(&self.errors) {
            let _ = writeln!(
                out,
                "tributary_pop3_errors_total{{class=\"{}\"}} {}",
                class.as_str(),
                load(counter)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_histogram() {
        let metrics = Metrics::default();
        metrics.message_stored(100);
        metrics.message_stored(50);
        metrics.run_finished(RunOutcome::Success, Duration::from_millis(300));
        metrics.error(ErrorClass::Auth);
        metrics.lease_taken();
        let text = metrics.render(Some(7));
        for line in [
            "tributary_fetch_runs_total{outcome=\"success\"} 1",
            "tributary_fetch_runs_total{outcome=\"auth_error\"} 0",
            "tributary_messages_fetched_total 2",
            "tributary_bytes_fetched_total 150",
            "tributary_fetch_run_duration_seconds_bucket{le=\"0.25\"} 0",
            "tributary_fetch_run_duration_seconds_bucket{le=\"0.5\"} 1",
            "tributary_fetch_run_duration_seconds_bucket{le=\"+Inf\"} 1",
            "tributary_fetch_leases_held 1",
            "tributary_accounts_due_unclaimed 7",
            "tributary_pop3_errors_total{class=\"auth\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
