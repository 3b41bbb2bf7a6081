//! The compile budget: a component whose code would take cranelift minutes
//! and gigabytes to compile is refused before compiling, by its size and
//! shape as wasmparser reads them (one linear pass, no compiling).
//!
//! Compile time grows with the number of functions and, within a function,
//! with its locals times its operators (SSA construction over every block),
//! so those are what is bounded. The defaults leave every plugin built with
//! the SDK far inside (the largest example function: a few hundred locals),
//! and refuse the shapes that were measured to take 37–108 s.

use crate::LoadError;
use wasmparser::{Parser, Payload};

/// What one component may ask the compiler for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileBudget {
    /// Functions, all core modules together.
    pub functions: u32,
    /// Locals of one function.
    pub locals_per_function: u32,
    /// Locals × operators of one function.
    pub function_cost: u64,
    /// Bytes of code, all functions together.
    pub code_bytes: u64,
}

impl Default for CompileBudget {
    fn default() -> Self {
        Self {
            functions: 50_000,
            locals_per_function: 4_000,
            function_cost: 50_000_000,
            code_bytes: 16 << 20,
        }
    }
}

/// Refuses `bytes` if compiling it would exceed `budget`, naming the bound.
/// A function body that cannot be read is refused here too: the compiler
/// validates bodies in parallel and would compile every other function
/// before it reported the bad one.
pub fn check(bytes: &[u8], budget: &CompileBudget) -> Result<(), LoadError> {
    let over = |what: String| Err(LoadError::OverBudget(what));
    let mut functions: u64 = 0;
    let mut code_bytes: u64 = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else {
            return Ok(());
        };
        let Payload::CodeSectionEntry(body) = payload else {
            continue;
        };
        functions += 1;
        let size = body.range().len() as u64;
        code_bytes += size;
        if functions > u64::from(budget.functions) {
            return over(format!(
                "more than {} functions (the compile budget)",
                budget.functions
            ));
        }
        if code_bytes > budget.code_bytes {
            return over(format!(
                "more than {} bytes of code (the compile budget)",
                budget.code_bytes
            ));
        }
        let unreadable = |e: wasmparser::BinaryReaderError| {
            Err(LoadError::Invalid(format!(
                "function {} cannot be read: {e}",
                functions - 1
            )))
        };
        let mut locals: u64 = 0;
        let reader = match body.get_locals_reader() {
            Ok(reader) => reader,
            Err(e) => return unreadable(e),
        };
        for local in reader {
            match local {
                Ok((count, _)) => locals += u64::from(count),
                Err(e) => return unreadable(e),
            }
        }
        if locals > u64::from(budget.locals_per_function) {
            return over(format!(
                "function {} has {locals} locals, more than the compile budget's {} per function",
                functions - 1,
                budget.locals_per_function
            ));
        }
        let mut operators = match body.get_operators_reader() {
            Ok(operators) => operators,
            Err(e) => return unreadable(e),
        };
        let mut count: u64 = 0;
        while !operators.eof() {
            if let Err(e) = operators.read() {
                return unreadable(e);
            }
            count += 1;
        }
        let cost = locals.saturating_mul(count);
        if cost > budget.function_cost {
            return over(format!(
                "function {} has {locals} locals and {count} operators (cost {cost}), more than the compile budget's {} per function",
                functions - 1,
                budget.function_cost
            ));
        }
    }
    Ok(())
}

/// Bytes of data segments, all core modules together: the size of the
/// memory images instantiation initialises. Malformed bytes count 0 (the
/// compiler refuses them).
pub fn image_bytes(bytes: &[u8]) -> u64 {
    let mut total: u64 = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::DataSection(reader)) => {
                for data in reader.into_iter().flatten() {
                    total = total.saturating_add(data.data.len() as u64);
                }
            }
            Ok(_) => {}
            Err(_) => return 0,
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(locals: u32, ops: u32) -> Vec<u8> {
        let body = "(drop (i32.const 0))".repeat(ops as usize);
        wat::parse_str(format!(
            "(module (func (local {}) {body}))",
            "i32 ".repeat(locals as usize)
        ))
        .unwrap()
    }

    #[test]
    fn a_large_function_is_refused_naming_the_bound() {
        let budget = CompileBudget {
            locals_per_function: 100,
            function_cost: 10_000,
            ..CompileBudget::default()
        };
        assert!(check(&module(10, 100), &budget).is_ok());
        let error = check(&module(101, 1), &budget).unwrap_err();
        assert!(error.to_string().contains("101 locals"), "{error}");
        let error = check(&module(50, 500), &budget).unwrap_err();
        assert!(error.to_string().contains("cost"), "{error}");
    }

    #[test]
    fn data_segments_are_measured() {
        let module = wat::parse_str(
            "(module (memory 1) (data (i32.const 0) \"abcd\") (data (i32.const 8) \"ef\"))",
        )
        .unwrap();
        assert_eq!(image_bytes(&module), 6);
        assert_eq!(image_bytes(b"not wasm"), 0);
    }

    #[test]
    fn many_functions_are_refused() {
        let budget = CompileBudget {
            functions: 3,
            ..CompileBudget::default()
        };
        let four = wat::parse_str("(module (func) (func) (func) (func))").unwrap();
        let error = check(&four, &budget).unwrap_err();
        assert!(error.to_string().contains("more than 3 functions"));
    }
}
