//! Callgrind's output format, one dump file: its header (the trigger our tag is in, the
//! events, `summary:` and `totals:`) and its body, as the cost of each function and the
//! calls between functions, with names as callgrind wrote them.
//!
//! Written by hand, following the format's reference (valgrind's documentation, "Callgrind
//! Format Specification"): no maintained crate parses callgrind output (gungraun's parser
//! lives inside its runner), and what is needed here is small: instructions per function,
//! the calls between them, and a clear error on anything else.
//!
//! # How it works
//!
//! 1. Header lines (`key: value`) come first; `events:` names the cost columns and
//!    `positions:` how many subpositions (`line`, `instr`) open every cost line.
//! 2. Body lines: a position line `ob=`, `fl=`, `fi=`, `fe=`, `fn=` sets where the next
//!    costs belong; `cob=`, `cfi=`, `cfl=`, `cfn=` set the target of the next call. Every
//!    name may be compressed: `(ID) name` defines an id, `(ID)` refers to it; functions
//!    (`fn`, `cfn`), files (`fl`, `fi`, `fe`, `cfi`, `cfl`) and objects (`ob`, `cob`) each
//!    have one id space, as callgrind writes them.
//! 3. A cost line is the subpositions (absolute, `+N`, `-N` or `*`: they are checked but
//!    not kept, as costs are summed per function), then the costs; missing costs are zero.
//!    It adds to the current function's self cost, except right after `calls=COUNT TARGET`,
//!    where it is the call's inclusive cost.
//! 4. `jump=` and `jcnd=` lines (`--collect-jumps`) are skipped; `totals:` (at the end,
//!    looking like a header line) and `summary:` are kept for the checks.

use std::collections::HashMap;

/// One dump, parsed: every function (callgrind's name, which carries its context of
/// callers under `--separate-callers`) with its self cost, and every call between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallgrindDump {
    /// The `desc: Trigger:` text (our tag follows `Client Request: `).
    pub trigger: Option<String>,
    /// The `summary:` line's instructions: every instruction executed, also those while
    /// collection was off.
    pub summary: Option<u64>,
    /// The `totals:` line's instructions: the sum of every self cost in the file.
    pub totals: Option<u64>,
    /// Functions by callgrind's name, in order of first appearance.
    pub functions: Vec<Function>,
    /// Calls between them, one per caller and callee (repeated call lines summed).
    pub calls: Vec<Call>,
}

/// One function of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The name as written: the symbol, `'N` for callgrind's recursion level N, then
    /// `'caller` for each caller in its context.
    pub name: String,
    /// Instructions executed in the function itself.
    pub self_instructions: u64,
}

/// Calls from one function to another in a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// Index into [`CallgrindDump::functions`].
    pub caller: usize,
    /// Index into [`CallgrindDump::functions`].
    pub callee: usize,
    /// How many times (0 for a call that was already under way when counting began).
    pub count: u64,
    /// Instructions executed inside those calls, the callee and everything it called, as
    /// callgrind reports them. Signed: for a call that was under way when the counters
    /// were zeroed, callgrind subtracts a count taken before the zeroing and writes the
    /// negative difference as its 64-bit two's complement (measured: a wait's
    /// `calls=204` line read -50808), so costs of calls that span the window's start or
    /// end are wrong, and only stacks (`--separate-callers`) give true inclusive costs.
    pub inclusive_instructions: i64,
}

/// What is wrong with a dump, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct FormatError {
    /// 1-based line number in the file.
    pub line: usize,
    /// What was found there.
    pub problem: String,
}

/// The event whose cost is read: instructions executed.
const INSTRUCTIONS: &str = "Ir";

/// The three name spaces of compressed names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Space {
    Object,
    File,
    Function,
}

/// Parsing state between lines.
#[derive(Debug, Default)]
struct Reader {
    dump: CallgrindDump,
    /// Names of compressed ids, per name space.
    names: HashMap<(Space, u64), String>,
    /// Function name -> index into `dump.functions`.
    index: HashMap<String, usize>,
    /// (caller, callee) -> index into `dump.calls`.
    call_index: HashMap<(usize, usize), usize>,
    /// Subpositions per cost line (`positions:`), 1 until said otherwise.
    positions: usize,
    /// The column of `Ir` among the costs, once `events:` was read.
    column: Option<usize>,
    /// Whether the body has begun (a header line after it is a second part).
    in_body: bool,
    /// The function costs go to.
    current: Option<usize>,
    /// The target of the next call (`cfn=`).
    call_target: Option<usize>,
    /// A `calls=` line's count, waiting for its cost line.
    pending_call: Option<u64>,
}

/// Parses one dump file's text.
pub fn parse(text: &str) -> Result<CallgrindDump, FormatError> {
    let mut reader = Reader {
        positions: 1,
        ..Reader::default()
    };
    for (number, line) in text.lines().enumerate() {
        reader.line(line).map_err(|problem| FormatError {
            line: number + 1,
            problem,
        })?;
    }
    if reader.pending_call.is_some() {
        return Err(FormatError {
            line: text.lines().count(),
            problem: "the file ends after a `calls=` line, without the call's cost line".into(),
        });
    }
    if reader.column.is_none() {
        return Err(FormatError {
            line: 1,
            problem: "no `events:` line: not a callgrind dump".into(),
        });
    }
    Ok(reader.dump)
}

impl Reader {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(());
        }
        if let Some((key, value)) = header(line) {
            return self.header(key, value);
        }
        self.in_body = true;
        if let Some((key, value)) = line.split_once('=') {
            return self.specification(key, value);
        }
        self.cost_line(line)
    }

    fn header(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "events" => {
                if self.in_body {
                    return Err(
                        "a second `events:` line: files of several parts (--combine-dumps) \
                         are not read"
                            .into(),
                    );
                }
                let column = value.split_whitespace().position(|e| e == INSTRUCTIONS);
                self.column = Some(column.ok_or_else(|| {
                    format!(
                        "the events `{}` do not include `{INSTRUCTIONS}`",
                        value.trim()
                    )
                })?);
            }
            "positions" => {
                let positions = value.split_whitespace().count();
                if !(1..=3).contains(&positions) {
                    return Err(format!(
                        "`positions: {}` is not a position list",
                        value.trim()
                    ));
                }
                self.positions = positions;
            }
            "summary" => self.dump.summary = Some(self.cost_of(value)?),
            "totals" => self.dump.totals = Some(self.cost_of(value)?),
            "desc" => {
                if let Some(trigger) = value.trim_start().strip_prefix("Trigger:") {
                    self.dump.trigger = Some(trigger.trim().to_owned());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The `Ir` column of a `summary:` or `totals:` line (costs only, no positions).
    fn cost_of(&self, value: &str) -> Result<u64, String> {
        let column = self
            .column
            .ok_or("a cost summary before the `events:` line")?;
        match value.split_whitespace().nth(column) {
            Some(number) => parse_number(number),
            None => Ok(0),
        }
    }

    fn specification(&mut self, key: &str, value: &str) -> Result<(), String> {
        if self.pending_call.is_some() {
            return Err(format!(
                "`{key}=` where the cost line of a `calls=` line belongs"
            ));
        }
        match key {
            "ob" | "cob" => {
                self.name(Space::Object, value)?;
            }
            "fl" | "fi" | "fe" | "cfi" | "cfl" => {
                self.name(Space::File, value)?;
            }
            "fn" => {
                let name = self.name(Space::Function, value)?;
                self.current = Some(self.function(name));
            }
            "cfn" => {
                let name = self.name(Space::Function, value)?;
                self.call_target = Some(self.function(name));
            }
            "calls" => {
                let count = value
                    .split_whitespace()
                    .next()
                    .ok_or("`calls=` without a count")?;
                self.pending_call = Some(parse_number(count)?);
            }
            "jump" | "jcnd" => {}
            _ => return Err(format!("unknown specification `{key}=`")),
        }
        Ok(())
    }

    /// A name, `(ID) name` or `(ID)` resolved: compressed names are remembered per space.
    fn name(&mut self, space: Space, value: &str) -> Result<String, String> {
        let value = value.trim_start();
        // Compressed only when "(" is followed by a digit: "(below main)" is a real name.
        let Some(rest) = value
            .strip_prefix('(')
            .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        else {
            return Ok(value.to_owned());
        };
        let (id, name) = rest
            .split_once(')')
            .ok_or_else(|| format!("`({rest}` opens a compressed name it does not close"))?;
        let id = parse_number(id)?;
        let name = name.trim_start();
        if name.is_empty() {
            self.names
                .get(&(space, id))
                .cloned()
                .ok_or_else(|| format!("compressed name ({id}) used before it was defined"))
        } else {
            self.names.insert((space, id), name.to_owned());
            Ok(name.to_owned())
        }
    }

    /// The index of the function `name`, added on first sight.
    fn function(&mut self, name: String) -> usize {
        if let Some(&index) = self.index.get(&name) {
            return index;
        }
        let index = self.dump.functions.len();
        self.index.insert(name.clone(), index);
        self.dump.functions.push(Function {
            name,
            self_instructions: 0,
        });
        index
    }

    fn cost_line(&mut self, line: &str) -> Result<(), String> {
        let column = self.column.ok_or("a cost line before the `events:` line")?;
        let mut tokens = line.split_whitespace();
        for _ in 0..self.positions {
            let position = tokens
                .next()
                .ok_or_else(|| format!("`{line}` has fewer than {} positions", self.positions))?;
            check_subposition(position)?;
        }
        let instructions = match tokens.nth(column) {
            Some(number) => parse_number(number)?,
            None => 0,
        };
        let current = self
            .current
            .ok_or_else(|| format!("cost line `{line}` before any `fn=`"))?;
        match self.pending_call.take() {
            None => {
                let function = &mut self.dump.functions[current];
                function.self_instructions = add(function.self_instructions, instructions)?;
            }
            Some(count) => {
                let callee = self
                    .call_target
                    .ok_or("a `calls=` line without a `cfn=` before it")?;
                // Two's complement: see `Call::inclusive_instructions`.
                self.call(current, callee, count, instructions as i64)?;
            }
        }
        Ok(())
    }

    fn call(&mut self, caller: usize, callee: usize, count: u64, cost: i64) -> Result<(), String> {
        match self.call_index.get(&(caller, callee)) {
            Some(&index) => {
                let call = &mut self.dump.calls[index];
                call.count = add(call.count, count)?;
                call.inclusive_instructions = call.inclusive_instructions.wrapping_add(cost);
            }
            None => {
                self.call_index
                    .insert((caller, callee), self.dump.calls.len());
                self.dump.calls.push(Call {
                    caller,
                    callee,
                    count,
                    inclusive_instructions: cost,
                });
            }
        }
        Ok(())
    }
}

/// `key: value` with a key of letters (a header line, or `totals:` at the end); body lines
/// start with a digit, a sign, `*` or `key=`.
fn header(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphabetic())).then_some((key, value))
}

/// A cost: decimal, or hexadecimal after `0x`.
fn parse_number(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("`{text}` is not a number"))
}

/// A subposition: a number, `+N`, `-N` or `*`.
fn check_subposition(text: &str) -> Result<(), String> {
    if text == "*" {
        return Ok(());
    }
    let number = text
        .strip_prefix('+')
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or(text);
    parse_number(number)
        .map(drop)
        .map_err(|_| format!("`{text}` is not a subposition"))
}

fn add(sum: u64, cost: u64) -> Result<u64, String> {
    sum.checked_add(cost)
        .ok_or_else(|| "costs overflow 64 bits".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The format reference's extended example, name-compressed, with subposition
    /// compression and a trigger, `summary:` and `totals:` added.
    const EXAMPLE: &str = "# callgrind format\nversion: 1\ncreator: hand\n\
        desc: Trigger: Client Request: handoff-bench window=1 tid=7 role=worker\n\
        positions: line\nevents: Ir\nsummary: 2000\n\n\
        fl=(1) file1.c\nfn=(1) main\n16 20\n\
        cfn=(2) func1\ncalls=1 50\n* 400\n\
        cfi=(2) file2.c\ncfn=(3) func2\ncalls=3 20\n16 400\n\
        fn=(2)\n51 100\ncfi=(2)\ncfn=(3)\ncalls=2 20\n+0 300\n\
        fl=(2)\nfn=(3)\n20 700\n\ntotals: 820\n";

    fn by_name(dump: &CallgrindDump, name: &str) -> usize {
        dump.functions.iter().position(|f| f.name == name).unwrap()
    }

    #[test]
    fn the_reference_example_gives_self_costs_and_calls() {
        let dump = parse(EXAMPLE).unwrap();
        let selfs: Vec<_> = dump
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.self_instructions))
            .collect();
        assert_eq!(selfs, [("main", 20), ("func1", 100), ("func2", 700)]);
        assert_eq!(dump.totals, Some(820));
        assert_eq!(dump.summary, Some(2000));
        assert_eq!(
            dump.trigger.as_deref(),
            Some("Client Request: handoff-bench window=1 tid=7 role=worker")
        );
        let (main, func1, func2) = (
            by_name(&dump, "main"),
            by_name(&dump, "func1"),
            by_name(&dump, "func2"),
        );
        let call = |caller, callee| {
            dump.calls
                .iter()
                .find(|c| c.caller == caller && c.callee == callee)
                .map(|c| (c.count, c.inclusive_instructions))
        };
        assert_eq!(call(main, func1), Some((1, 400)));
        assert_eq!(call(main, func2), Some((3, 400)));
        assert_eq!(call(func1, func2), Some((2, 300)));
        assert_eq!(dump.calls.len(), 3);
        // Self costs add up to the totals line; call costs are not self costs.
        let sum: u64 = dump.functions.iter().map(|f| f.self_instructions).sum();
        assert_eq!(Some(sum), dump.totals);
    }

    #[test]
    fn instructions_are_read_from_their_column_with_two_positions_and_hex() {
        let text = "events: Dr Ir Dw\npositions: instr line\nfn=(1) f\n\
                    0x401000 12 5 0x10 1\n+3 * 7 2\n-1 -2 9\ncfn=(1)\ncalls=4 0x401000 12\n+2 +0 1 50\n\
                    totals: 3 0x19 0\n";
        let dump = parse(text).unwrap();
        assert_eq!(dump.functions[0].self_instructions, 16 + 2);
        assert_eq!(dump.calls[0].inclusive_instructions, 50);
        assert_eq!(dump.calls[0].count, 4);
        assert_eq!(dump.totals, Some(25));
    }

    #[test]
    fn call_costs_below_zero_read_as_callgrind_meant_them() {
        let text = "events: Ir\nfn=a\ncfn=b\ncalls=204 120\n768 18446744073709500808\n";
        let dump = parse(text).unwrap();
        assert_eq!(dump.calls[0].inclusive_instructions, -50_808);
        assert_eq!(dump.calls[0].count, 204);
    }

    #[test]
    fn repeated_call_lines_and_function_sections_are_summed() {
        let text = "events: Ir\nfn=a\n1 5\ncfn=b\ncalls=1 1\n1 10\nfn=b\n1 10\nfn=a\n2 5\ncfn=b\ncalls=2 1\n2 30\n";
        let dump = parse(text).unwrap();
        assert_eq!(dump.functions.len(), 2);
        assert_eq!(dump.functions[0].self_instructions, 10);
        assert_eq!(
            dump.calls,
            [Call {
                caller: 0,
                callee: 1,
                count: 3,
                inclusive_instructions: 40
            }]
        );
    }

    #[test]
    fn bad_input_names_the_line_and_the_problem() {
        let cases = [
            ("fn=a\n1 5\n", "a cost line before the `events:` line"),
            ("# callgrind format\nversion: 1\n", "no `events:` line"),
            ("events: Dr\nfn=a\n1 5\n", "do not include `Ir`"),
            ("events: Ir\n1 5\n", "before any `fn=`"),
            ("events: Ir\nfn=a\n1 five\n", "`five` is not a number"),
            ("events: Ir\nfn=a\nx 5\n", "`x` is not a subposition"),
            (
                "events: Ir\nfn=(3)\n1 5\n",
                "(3) used before it was defined",
            ),
            (
                "events: Ir\nfn=a\ncalls=1 2\n",
                "ends after a `calls=` line",
            ),
            ("events: Ir\nfn=a\ncalls=1 2\nfn=b\n", "where the cost line"),
            ("events: Ir\nfn=a\ncalls=1 2\n3 4\n", "without a `cfn=`"),
            ("events: Ir\nfn=a\nzz=1\n", "unknown specification `zz=`"),
            ("events: Ir\nfn=a\n1 5\nevents: Ir\n", "several parts"),
            (
                "events: Ir\nfn=a\n1 18446744073709551615\n1 1\n",
                "overflow",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(error.starts_with("line "), "{error}");
        }
    }

    #[test]
    fn names_are_kept_verbatim_whatever_they_contain() {
        let hostile = "<script>alert(1)</script> **bold** @everyone `tick` | pipe";
        let text = format!(
            "events: Ir\nfn=(1) {hostile}\n1 5\nfn=(2) (below main)\n1 1\nfn=(below main)\n1 1\nfn=(1)\n1 2\n"
        );
        let dump = parse(&text).unwrap();
        let selfs: Vec<_> = dump
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.self_instructions))
            .collect();
        assert_eq!(selfs, [(hostile, 7), ("(below main)", 2)]);
    }
}
