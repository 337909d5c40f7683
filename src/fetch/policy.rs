//! When an account is checked next (DESIGN §6): adaptive intervals, jitter, back-off.
//! Pure functions, so the rules are tested without clocks or servers.

use std::time::Duration;

/// The slowest an idle account is polled.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// The longest back-off after repeated temporary failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);
const FIRST_BACKOFF: Duration = Duration::from_secs(60);

/// The interval after a successful run: mail arrived → halve it (down to `floor`);
/// nothing new → grow it by half (up to an hour). A fixed interval chosen by the user
/// wins over both.
pub fn next_interval(
    current: Duration,
    fixed_minutes: Option<i32>,
    new_messages: u64,
    floor: Duration,
) -> Duration {
    if let Some(minutes) = fixed_minutes {
        return Duration::from_secs(u64::try_from(minutes.max(1)).unwrap_or(1) * 60);
    }
    let next = if new_messages > 0 {
        current / 2
    } else {
        current + current / 2
    };
    next.clamp(floor, MAX_INTERVAL.max(floor))
}

/// The wait after the `failures`-th consecutive temporary failure: 1, 2, 4 … minutes,
/// at most an hour; never shorter than a `LOGIN-DELAY` the server asked for.
pub fn backoff(failures: u32, login_delay: Option<Duration>) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    let wait = FIRST_BACKOFF.saturating_mul(1 << exponent).min(MAX_BACKOFF);
    wait.max(login_delay.unwrap_or_default())
}

/// Spreads `wait` by up to ±10 % so accounts added together do not poll together.
/// `random` is any uniformly random number.
pub fn jitter(wait: Duration, random: u64) -> Duration {
    let spread = wait / 10;
    if spread.is_zero() {
        return wait;
    }
    let spread_ms = u64::try_from(spread.as_millis())
        .unwrap_or(u64::MAX / 4)
        .max(1);
    let offset = Duration::from_millis(random % (2 * spread_ms + 1));
    (wait + offset).saturating_sub(spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOOR: Duration = Duration::from_secs(120);

    #[test]
    fn mail_shortens_and_quiet_lengthens_the_interval() {
        let five = Duration::from_secs(300);
        assert_eq!(
            next_interval(five, None, 3, FLOOR),
            Duration::from_secs(150)
        );
        assert_eq!(
            next_interval(Duration::from_secs(150), None, 1, FLOOR),
            FLOOR
        );
        assert_eq!(
            next_interval(five, None, 0, FLOOR),
            Duration::from_secs(450)
        );
        assert_eq!(next_interval(MAX_INTERVAL, None, 0, FLOOR), MAX_INTERVAL);
        assert_eq!(
            next_interval(five, Some(7), 0, FLOOR),
            Duration::from_secs(420)
        );
        assert_eq!(
            next_interval(five, Some(7), 9, FLOOR),
            Duration::from_secs(420)
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour_and_honours_login_delay() {
        let minutes = |n| backoff(n, None).as_secs() / 60;
        assert_eq!(
            [minutes(1), minutes(2), minutes(3), minutes(4)],
            [1, 2, 4, 8]
        );
        assert_eq!(backoff(40, None), MAX_BACKOFF);
        assert_eq!(
            backoff(1, Some(Duration::from_secs(900))),
            Duration::from_secs(900)
        );
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let wait = Duration::from_secs(600);
        for random in [0, 1, 59_999, 60_000, 120_000, u64::MAX] {
            let jittered = jitter(wait, random);
            assert!(
                jittered >= Duration::from_secs(540) && jittered <= Duration::from_secs(660),
                "{jittered:?}"
            );
        }
        assert_ne!(jitter(wait, 0), jitter(wait, 120_000));
    }
}
