//! `tickpipe ctl top`: a live dashboard of one engine.
//!
//! On connect it subscribes to the P&L (every `--interval-ms`), fill and alert streams;
//! every interval it asks for `status`, `positions`, `orders`, `strategies` and
//! `latency`. [`model::TopState`] holds what is shown and is updated from the replies,
//! events and keys; [`view`] draws it; [`input`] maps keys to commands (each confirmed
//! with y/n); [`link`] owns the socket on a background thread.
//!
//! The terminal is in raw mode on the alternate screen while the dashboard runs, and
//! is restored when it ends, on an error, and on a panic (ratatui's panic hook).

mod input;
mod link;
mod model;
mod view;

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use crossterm::event::{self, Event, KeyEventKind};
use ratatui::DefaultTerminal;

use self::{
    input::Action,
    link::{FromEngine, Link},
    model::TopState,
};
use super::{
    connect::{Connection, Endpoint},
    Outcome, TopArgs,
};

/// The commands that refresh the panels, sent every interval.
const REFRESH: [&str; 5] = ["status", "positions", "orders", "strategies", "latency"];

/// Longest wait for a key before the screen shows what arrived from the engine.
const FRAME: Duration = Duration::from_millis(50);

/// The terminal in raw mode on the alternate screen; dropping it restores the terminal.
struct Screen(DefaultTerminal);

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        match ratatui::try_init() {
            Ok(terminal) => Ok(Screen(terminal)),
            Err(e) => {
                ratatui::restore();
                Err(e)
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Runs the dashboard until `q` (or Ctrl-C).
pub fn run(endpoint: &Endpoint, timeout: Duration, args: &TopArgs) -> Outcome {
    if !std::io::stdout().is_terminal() {
        eprintln!("tickpipe ctl top: standard output is not a terminal; the dashboard needs one");
        return Outcome::NoEngine;
    }
    let conn = match Connection::open(endpoint, timeout) {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("tickpipe ctl: {e}");
            return Outcome::NoEngine;
        }
    };
    let mut state = TopState::new(endpoint.to_string());
    let link = match Link::start(conn) {
        Ok(link) => link,
        Err(e) => {
            eprintln!("tickpipe ctl top: cannot start the connection thread: {e}");
            return Outcome::NoEngine;
        }
    };
    for line in [
        format!("subscribe pnl {}", args.interval_ms),
        "subscribe fills".to_owned(),
        "subscribe alerts".to_owned(),
    ] {
        state.sent(&line);
        link.send(line);
    }
    let mut screen = match Screen::enter() {
        Ok(screen) => screen,
        Err(e) => {
            eprintln!("tickpipe ctl top: cannot set up the terminal: {e}");
            return Outcome::NoEngine;
        }
    };
    let interval = Duration::from_millis(args.interval_ms);
    let result = event_loop(&mut screen.0, &link, &mut state, interval);
    drop(screen);
    if let Err(e) = result {
        eprintln!("tickpipe ctl top: the terminal failed: {e}");
        return Outcome::NoEngine;
    }
    if let Some(why) = &state.gone {
        eprintln!("tickpipe ctl top: {why}");
    }
    Outcome::Ok
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    link: &Link,
    state: &mut TopState,
    interval: Duration,
) -> std::io::Result<()> {
    let mut next_refresh = Instant::now();
    loop {
        while let Some(message) = link.try_recv() {
            match message {
                FromEngine::Message(value) => state.apply(&value),
                FromEngine::Gone(why) => state.lost(why),
            }
        }
        let now = Instant::now();
        if now >= next_refresh {
            // A slow engine gets no new round until it answered most of the last one,
            // so requests never pile up behind it.
            if state.is_live() && state.outstanding() < REFRESH.len() {
                for command in REFRESH {
                    state.sent(command);
                    link.send(command.to_owned());
                }
            }
            next_refresh = now + interval;
        }
        terminal.draw(|frame| view::draw(frame, state))?;
        let wait = next_refresh
            .saturating_duration_since(Instant::now())
            .min(FRAME);
        if event::poll(wait)? {
            if let Event::Key(key) = event::read()? {
                if key.kind == KeyEventKind::Release {
                    continue;
                }
                match input::on_key(state, key) {
                    Action::Quit => return Ok(()),
                    Action::Send(line) => {
                        state.sent(&line);
                        link.send(line);
                    }
                    Action::None => {}
                }
            }
        }
    }
}
