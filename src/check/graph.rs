//! The dependency graph of `const`, `param` and `fn` declarations.
//!
//! It rejects recursion (so evaluation always terminates), finds constants that would need a document, and
//! orders constant initialisers so each is computed after what it uses.

use crate::ir::{ConstInit, Origin};

/// A declaration: a constant (by declaration index) or a function (by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Node {
    Const(usize),
    Fn(u32),
}

#[derive(Debug)]
struct Decl {
    name: String,
    origin: Origin,
    edges: Vec<Node>,
    /// Reads the document or the clock directly.
    contextual: bool,
    /// Index of its initialiser in `Program::const_inits` (constants only).
    init: Option<usize>,
}

/// A problem found by [`Graph::analyse`]: the declaration to blame, and what to say.
pub(super) struct Problem {
    pub origin: Origin,
    pub message: String,
    pub help: &'static str,
}

#[derive(Debug, Default)]
pub(super) struct Graph {
    consts: Vec<Decl>,
    fns: Vec<Decl>,
}

impl Graph {
    fn decl(&mut self, node: Node) -> &mut Decl {
        match node {
            Node::Const(i) => &mut self.consts[i],
            Node::Fn(i) => &mut self.fns[i as usize],
        }
    }

    fn get(&self, node: Node) -> &Decl {
        match node {
            Node::Const(i) => &self.consts[i],
            Node::Fn(i) => &self.fns[i as usize],
        }
    }

    pub fn add_const(&mut self, name: &str, origin: Origin) -> usize {
        self.consts.push(Decl { name: name.into(), origin, edges: Vec::new(), contextual: false, init: None });
        self.consts.len() - 1
    }

    pub fn add_fn(&mut self, name: &str, origin: Origin) -> u32 {
        self.fns.push(Decl { name: name.into(), origin, edges: Vec::new(), contextual: false, init: None });
        (self.fns.len() - 1) as u32
    }

    pub fn edge(&mut self, from: Node, to: Node) {
        let edges = &mut self.decl(from).edges;
        if !edges.contains(&to) {
            edges.push(to);
        }
    }

    pub fn contextual(&mut self, node: Node) {
        self.decl(node).contextual = true;
    }

    pub fn set_init(&mut self, index: usize, init: usize) {
        self.consts[index].init = Some(init);
    }

    /// Finds cycles and contextual constants, and reorders `inits` so dependencies come first.
    pub fn analyse(&self, inits: &mut Vec<ConstInit>) -> Vec<Problem> {
        let nodes: Vec<Node> =
            (0..self.consts.len()).map(Node::Const).chain((0..self.fns.len() as u32).map(Node::Fn)).collect();
        let index = |n: Node| match n {
            Node::Const(i) => i,
            Node::Fn(i) => self.consts.len() + i as usize,
        };
        let mut state = vec![0u8; nodes.len()]; // 0 new, 1 on the stack, 2 done
        let mut order = Vec::new();
        let mut problems = Vec::new();
        for &start in &nodes {
            if state[index(start)] != 0 {
                continue;
            }
            // Iterative depth-first search: (node, next edge to follow).
            let mut stack = vec![(start, 0usize)];
            state[index(start)] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let edges = &self.get(node).edges;
                if let Some(&to) = edges.get(*next) {
                    *next += 1;
                    match state[index(to)] {
                        0 => {
                            state[index(to)] = 1;
                            stack.push((to, 0));
                        }
                        1 => {
                            let from = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                            let cycle: Vec<Node> = stack[from..].iter().map(|&(n, _)| n).collect();
                            problems.push(self.cycle_problem(&cycle));
                        }
                        _ => {}
                    }
                } else {
                    state[index(node)] = 2;
                    order.push(node);
                    stack.pop();
                }
            }
        }
        // A constant is contextual if it, or anything it reaches, reads the document or the clock.
        for (i, c) in self.consts.iter().enumerate() {
            if self.reaches_context(Node::Const(i)) {
                problems.push(Problem {
                    origin: c.origin,
                    message: format!("`{}` depends on the document (`input`, `doc`, `documents`) or the clock", c.name),
                    help: "constants are computed once, before any document is read; use `let` in a rule, or a `fn`",
                });
            }
        }
        let mut taken: Vec<Option<ConstInit>> = inits.drain(..).map(Some).collect();
        for node in order {
            if let Node::Const(i) = node
                && let Some(init) = self.consts[i].init.and_then(|k| taken.get_mut(k)).and_then(Option::take)
            {
                inits.push(init);
            }
        }
        inits.extend(taken.into_iter().flatten());
        problems
    }

    /// Whether function `id` reads the document or the clock, directly or through what it calls.
    pub fn fn_is_contextual(&self, id: u32) -> bool {
        self.reaches_context(Node::Fn(id))
    }

    fn reaches_context(&self, start: Node) -> bool {
        let mut seen = vec![start];
        let mut todo = vec![start];
        while let Some(node) = todo.pop() {
            let decl = self.get(node);
            if decl.contextual {
                return true;
            }
            for &to in &decl.edges {
                if !seen.contains(&to) {
                    seen.push(to);
                    todo.push(to);
                }
            }
        }
        false
    }

    fn cycle_problem(&self, cycle: &[Node]) -> Problem {
        let names: Vec<&str> = cycle.iter().chain(cycle.first()).map(|&n| self.get(n).name.as_str()).collect();
        let first = cycle.first().copied().unwrap_or(Node::Fn(0));
        match cycle.iter().find(|n| matches!(n, Node::Const(_))) {
            Some(&c) => Problem {
                origin: self.get(c).origin,
                message: format!("`{}` depends on itself ({})", self.get(c).name, names.join(" → ")),
                help: "constants must be computable in some order",
            },
            None => Problem {
                origin: self.get(first).origin,
                message: format!("`fn {}` calls itself ({})", self.get(first).name, names.join(" → ")),
                help: "recursion is not allowed, so that evaluation always terminates; use a quantifier or a comprehension",
            },
        }
    }
}
