//! The terminal in raw mode on the alternate screen, and put back however `ztel top` ends: on
//! return and on error (the guard's drop), and on panic (the hook, which runs before the panic
//! message is printed, so that the message lands on a sane terminal, and also under
//! `panic = "abort"`, where no drop runs).

use std::io::{self, Stdout};
use std::mem::ManuallyDrop;
use std::sync::Once;

use crossterm::cursor::Show;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// A terminal that `ztel top` owns until this is dropped.
pub struct Term {
    /// Dropped by hand: see the drop.
    pub terminal: ManuallyDrop<Terminal<CrosstermBackend<Stdout>>>,
}

impl Term {
    /// Takes the terminal over.
    pub fn enter() -> io::Result<Term> {
        if !io::IsTerminal::is_terminal(&io::stdout()) {
            return Err(io::Error::other(
                "standard output is not a terminal (ztel top draws a screen; curl /metrics for text)",
            ));
        }
        hook_panics();
        enable_raw_mode()?;
        // From here on, the drop undoes whatever part of the set-up was done.
        let mut guard = Term {
            terminal: ManuallyDrop::new(Terminal::new(CrosstermBackend::new(io::stdout()))?),
        };
        crossterm::execute!(guard.terminal.backend_mut(), EnterAlternateScreen)?;
        guard.terminal.hide_cursor()?;
        guard.terminal.clear()?;
        Ok(guard)
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        // ratatui's own drop shows a hidden cursor and `eprintln!`s when it cannot, which panics
        // when stderr is a terminal that hung up (EIO). Shown here first, there is nothing left
        // for it to do; when that fails too, it is not dropped at all: the process is ending.
        let shown = self.terminal.show_cursor().is_ok();
        restore();
        if shown {
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.terminal) };
        }
    }
}

/// Puts the terminal back as a shell expects it; doing it twice does no harm.
fn restore() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(io::stdout(), LeaveAlternateScreen, Show);
}

fn hook_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
