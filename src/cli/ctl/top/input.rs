//! Keys of `tickpipe ctl top`. Every key that changes the engine first asks y/n in the
//! modal line; only `y` sends the command.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Confirm, Tone, TopState};

/// What the main loop does after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to send; redraw.
    None,
    /// Leave the dashboard.
    Quit,
    /// Send this command line to the engine.
    Send(String),
}

/// Applies one key press to the state and says what to do next.
pub fn on_key(state: &mut TopState, key: KeyEvent) -> Action {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Action::Quit;
    }
    if let Some(confirm) = state.confirm.take() {
        return match key.code {
            KeyCode::Char('y' | 'Y') => {
                state.status = Some((Tone::Info, format!("sent `{}`", confirm.command)));
                Action::Send(confirm.command)
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                state.status = Some((Tone::Info, format!("`{}` not sent", confirm.command)));
                Action::None
            }
            // Any other key leaves the question up: a stray key must not decide it.
            _ => {
                state.confirm = Some(confirm);
                Action::None
            }
        };
    }
    match key.code {
        KeyCode::Char('q') => return Action::Quit,
        KeyCode::Esc => state.status = None,
        KeyCode::Up => state.move_position(-1),
        KeyCode::Down => state.move_position(1),
        KeyCode::Tab | KeyCode::Right => state.cycle_strategy(1),
        KeyCode::BackTab | KeyCode::Left => state.cycle_strategy(-1),
        KeyCode::Char('p') => ask_strategy(state, "pause"),
        KeyCode::Char('r') => ask_strategy(state, "resume"),
        KeyCode::Char('c') => ask_close(state),
        KeyCode::Char('F') => ask(
            state,
            "flatten: close every open position at market?".to_owned(),
            "flatten".to_owned(),
        ),
        KeyCode::Char('h') => ask(
            state,
            "halt trading: no new entries or exits from strategies?".to_owned(),
            "halt".to_owned(),
        ),
        KeyCode::Char('a') => ask(
            state,
            "activate trading: strategies may open positions again?".to_owned(),
            "activate".to_owned(),
        ),
        _ => {}
    }
    Action::None
}

/// Puts a y/n question up, unless the engine is gone.
fn ask(state: &mut TopState, question: String, command: String) {
    if !state.is_live() {
        state.status = Some((Tone::Error, "the engine is gone; press q to leave".into()));
        return;
    }
    state.confirm = Some(Confirm { question, command });
}

fn ask_strategy(state: &mut TopState, verb: &str) {
    match state.selected_strategy() {
        Some(s) => {
            let (question, command) = (
                format!("{verb} strategy {} (now {})?", s.name, s.state),
                format!("{verb} {}", s.name),
            );
            ask(state, question, command);
        }
        None => state.status = Some((Tone::Error, format!("no strategy to {verb} yet"))),
    }
}

fn ask_close(state: &mut TopState) {
    match state.selected_position() {
        Some(p) => {
            let side = if p.net < 0 { "buy" } else { "sell" };
            let (question, command) = (
                format!(
                    "close {}: {side} {} at market?",
                    p.symbol,
                    p.net.unsigned_abs()
                ),
                format!("close {}", p.symbol),
            );
            ask(state, question, command);
        }
        None => state.status = Some((Tone::Error, "no open position to close".into())),
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyEvent;

    use super::{super::model::tests::example_state, *};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_state_changing_key_asks_first_and_y_sends() {
        let mut s = example_state();
        assert_eq!(on_key(&mut s, key(KeyCode::Char('h'))), Action::None);
        assert!(s.confirm.as_ref().unwrap().question.contains("halt"));
        // A stray key does not answer the question.
        assert_eq!(on_key(&mut s, key(KeyCode::Char('q'))), Action::None);
        assert!(s.confirm.is_some());
        assert_eq!(
            on_key(&mut s, key(KeyCode::Char('y'))),
            Action::Send("halt".into())
        );
        assert!(s.confirm.is_none());
    }

    #[test]
    fn n_cancels() {
        let mut s = example_state();
        on_key(&mut s, key(KeyCode::Char('F')));
        assert_eq!(on_key(&mut s, key(KeyCode::Char('n'))), Action::None);
        assert!(s.confirm.is_none());
        assert!(s.status.as_ref().unwrap().1.contains("not sent"));
    }

    #[test]
    fn close_and_pause_act_on_the_selection() {
        let mut s = example_state();
        on_key(&mut s, key(KeyCode::Down));
        on_key(&mut s, key(KeyCode::Char('c')));
        assert_eq!(
            s.confirm.as_ref().unwrap().question,
            "close INFY: buy 20 at market?"
        );
        assert_eq!(
            on_key(&mut s, key(KeyCode::Char('y'))),
            Action::Send("close INFY".into())
        );
        on_key(&mut s, key(KeyCode::Tab));
        on_key(&mut s, key(KeyCode::Char('r')));
        assert_eq!(
            on_key(&mut s, key(KeyCode::Char('Y'))),
            Action::Send("resume breakout".into())
        );
        on_key(&mut s, key(KeyCode::Tab));
        on_key(&mut s, key(KeyCode::Char('p')));
        assert_eq!(
            on_key(&mut s, key(KeyCode::Char('y'))),
            Action::Send("pause sma_cross".into())
        );
    }

    #[test]
    fn q_and_ctrl_c_quit() {
        let mut s = example_state();
        assert_eq!(on_key(&mut s, key(KeyCode::Char('q'))), Action::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        on_key(&mut s, key(KeyCode::Char('a')));
        assert_eq!(on_key(&mut s, ctrl_c), Action::Quit);
    }

    #[test]
    fn nothing_is_asked_once_the_engine_is_gone() {
        let mut s = example_state();
        s.lost("the engine closed the connection".into());
        on_key(&mut s, key(KeyCode::Char('a')));
        assert!(s.confirm.is_none());
        assert_eq!(s.status.as_ref().unwrap().0, Tone::Error);
    }
}
