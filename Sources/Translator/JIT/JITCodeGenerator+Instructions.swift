import Machine

/// The code for each kind of guest instruction.
extension JITCodeGenerator {
    // MARK: - Arithmetic

    /// `slli t, x, s` then `add z, b, t` (s = 1 to 3, b not t): array
    /// indexing, `lea z, [b + x << s]`. Where z is t, that one instruction
    /// is the pair: the shifted value lives only in t, which the add
    /// overwrites. Where z is another register (not x, which the lea would
    /// overwrite before the shift reads it), the shift follows the lea, so
    /// the address does not wait for it: on a pointer chase (`t = x << 3`,
    /// `z = b + t`, load from z into x) the loop's chain of dependences is
    /// one instruction shorter. Neither op can leave the block, so no exit
    /// sees the order. Returns false (emitting nothing) for other pairs.
    mutating func scaledIndex(_ first: MicroOp, _ second: MicroOp) -> Bool {
        guard first.kind == .slli, (1...3).contains(first.imm), second.kind == .add,
              second.rs1 == first.rd || second.rs2 == first.rd else { return false }
        let t = first.rd, x = first.rs1, z = second.rd
        let b = second.rs1 == t ? second.rs2 : second.rs1
        guard b != t, z == t || z != x, Int(z) != MicroOp.writeSink else { return false }
        scaledSum(z, b, x, shift: first.imm)
        if z != t { emit(first, at: -1) } // x unchanged by the lea (z is not x); slli never uses its index
        return true
    }

    /// x[z] = x[b] + (x[x] << s), s = 1 to 3, wrapping at 32 bits: one lea.
    private mutating func scaledSum(_ z: UInt8, _ b: UInt8, _ x: UInt8, shift s: UInt32) {
        let base: A.Reg32 = host(b) ?? .ecx
        if base == .ecx { read(.ecx, b) }
        let index: A.Reg32 = host(x) ?? .eax
        if index == .eax { read(.eax, x) }
        let d = host(z) ?? .eax
        a.lea(d, A.Address(base: base.q, index: index.q, scale: UInt8(1 << s)))
        if d == .eax { write(z, .eax) }
    }

    /// In a guarded view, `slli t, x, s` and `add z, b, t` (s = 1 to 3, b not
    /// t) then a load from z + imm: the load addresses memory + b
    /// + x * 2^s + imm in 64 bits, one host instruction whose address waits
    /// for x alone (memory + b, made in rax first, waits for b, which in a
    /// loop is usually the array's base and does not change), where the
    /// pair's lea would stand between x and the load: a table lookup per
    /// byte (crc32) or a walk through an array of nodes (chase) is that much
    /// shorter per turn. Where the guest's 32-bit arithmetic wraps (at the
    /// shift, the add or the displacement) the 64-bit address is 2^32 or more
    /// past the view or below it, inside its reservation (`GuardedView.reach`
    /// and `below`), so it faults like an access past the bound; the fault site names op k, the shift, and no
    /// guest register has changed when the load runs, so the reference
    /// interpreter steps the three from there, exactly. Then t and z are
    /// written as the two ops write them (those the add or the load does
    /// not overwrite), and rd last. Returns false (emitting nothing) for other triples.
    mutating func scaledLoad(_ first: MicroOp, _ second: MicroOp, _ third: MicroOp, at k: Int) -> Bool {
        guard guarded, first.kind == .slli, (1...3).contains(first.imm), second.kind == .add,
              second.rs1 == first.rd || second.rs2 == first.rd, let access = third.kind.access, !access.isStore,
              third.rs1 == second.rd else { return false }
        let t = first.rd, x = first.rs1, z = second.rd, d = third.rd
        let b = second.rs1 == t ? second.rs2 : second.rs1
        guard b != t, Int(z) != MicroOp.writeSink else { return false }
        // The address's base: memory + b in rax, or, where the view's address is the displacement,
        // b itself (in its host register, or loaded into rax).
        let baseRegister: A.Reg64
        if let hb = host(b) {
            if viewAddress == nil { a.lea(.rax, HostRegister.memory + hb.q) }
            baseRegister = viewAddress == nil ? .rax : hb.q
        } else {
            read(.eax, b)
            if viewAddress == nil { a.alu(.add, .rax, HostRegister.memory) }
            baseRegister = .rax
        }
        let index: A.Reg32 = host(x) ?? .ecx
        if index == .ecx { read(.ecx, x) }
        let tLives = t != z && t != d, zLives = z != d
        let value = !tLives && !zLives ? host(d) ?? .edx : .edx // the pair's ops below use eax and ecx only
        let at = A.Address(base: baseRegister, index: index.q, scale: UInt8(1 << first.imm))
            + (Int32(bitPattern: third.imm) + (viewAddress ?? 0))
        faultSite(at: a.offset, op: k) // the load, next: stepped from the shift
        load(value, A.Mem(address: at, size: access.size), signed: access.signed)
        if zLives, tLives {
            if !scaledIndex(first, second) {
                emit(first, at: k)
                emit(second, at: k + 1)
            }
        } else if zLives {
            scaledSum(z, b, x, shift: first.imm) // t is z or rd: overwritten
        } else if tLives {
            emit(first, at: k) // z is rd
        }
        if value == .edx { write(d, .edx) }
        return true
    }

    /// True if `first` and `second` are an add and its carry (`carry`).
    static func isCarry(_ first: MicroOp, _ second: MicroOp) -> Bool {
        let d = first.rd, x = second.rs2
        return first.kind == .add && second.kind == .sltu && second.rs1 == d && x != d && (x == first.rs1 || x == first.rs2)
            && Int(d) != MicroOp.writeSink && Int(second.rd) != MicroOp.writeSink
    }

    /// `add d, a, b`, an op m, then `sltu c, d, x`: the add and its carry
    /// (`carry`) with m between them, where compilers put the high words' add
    /// of 64-bit arithmetic (bignum's limb loop does). m goes first and the
    /// two are made a pair, when that changes nothing: m cannot leave the
    /// block (so nothing outside sees the order), does not read d, and writes
    /// neither d nor a nor b. Returns false (emitting nothing) for other triples.
    mutating func spreadCarry(_ first: MicroOp, _ m: MicroOp, _ third: MicroOp, at k: Int) -> Bool {
        guard JITCodeGenerator.isCarry(first, third), !m.kind.mayLeave else { return false }
        let (reads, writes) = m.kind.registerUse, d = first.rd
        guard !(reads >= 1 && m.rs1 == d), !(reads >= 2 && m.rs2 == d),
              !(writes && (m.rd == d || m.rd == first.rs1 || m.rd == first.rs2)) else { return false }
        emit(m, at: k + 1)
        return carry(first, third)
    }

    /// `add d, a, b` then `sltu c, d, x` with x one of a and b (not d): the
    /// carry out of a 32-bit add (d < x exactly when a + b wrapped), as
    /// 64-bit arithmetic on RV32 spells it. The add is made with x86's `add`,
    /// whose carry flag `setb` turns into c, instead of comparing again.
    /// Neither op can leave the block. Returns false (emitting nothing) for other pairs.
    mutating func carry(_ first: MicroOp, _ second: MicroOp) -> Bool {
        guard JITCodeGenerator.isCarry(first, second) else { return false }
        let d = first.rd, a0 = first.rs1, b0 = first.rs2, c = second.rd
        // c's 0 first (the xor clobbers the flags), in c's own host register if nothing the add reads or writes is c.
        let bit: A.Reg32 = host(c).flatMap { c != a0 && c != b0 && c != d ? $0 : nil } ?? .ecx
        a.xor(bit, bit)
        if let hd = host(d) {
            if d == a0 {
                alu(.add, hd, b0)
            } else if d == b0 {
                alu(.add, hd, a0)
            } else {
                read(hd, a0) // a mov: the flags are the add's
                alu(.add, hd, b0)
            }
        } else {
            read(.eax, a0)
            alu(.add, .eax, b0)
            write(d, .eax)
        }
        a.set(.b, bit.b)
        if bit == .ecx { write(c, .ecx) }
        return true
    }

    /// `mulhu h, a, b` and `mul l, a, b` (either order, operands in either
    /// order, h not l), or `mulh` and `mul`: both halves of one 64-bit
    /// product, the sequence RV32M recommends for it, as one x86 `mul` (or
    /// one-operand `imul`) into edx:eax instead of two multiplies. The first
    /// op must not write an operand of the second (the product is made once,
    /// before either is written). Neither op can leave the block. Returns
    /// false (emitting nothing) for other pairs.
    mutating func wideProduct(_ first: MicroOp, _ second: MicroOp) -> Bool {
        let (high, low) = first.kind == .mul ? (second, first) : (first, second)
        guard low.kind == .mul, high.kind == .mulhu || high.kind == .mulh,
              (high.rs1, high.rs2) == (low.rs1, low.rs2) || (high.rs1, high.rs2) == (low.rs2, low.rs1),
              first.rd != second.rs1, first.rd != second.rs2, high.rd != low.rd else { return false }
        read(.eax, low.rs1)
        let signed = high.kind == .mulh
        if let h = host(low.rs2) {
            if signed { a.imul(h) } else { a.mul(h) }
        } else if low.rs2 == 0 {
            a.xor(.edx, .edx) // x0 * anything: 0 in both halves
            a.mov(.eax, 0 as UInt32)
        } else {
            if signed { a.imul(JITCodeGenerator.x(low.rs2)) } else { a.mul(JITCodeGenerator.x(low.rs2)) }
        }
        write(low.rd, .eax)
        write(high.rd, .edx)
        return true
    }

    /// `slli t, x, s; srai t, t, 31` then `and t, t, m` (or `and t, m, t`):
    /// t is all ones where bit 31 - s of x is set, then masked with m, so
    /// t = (x & 1 << (31 - s)) != 0 ? m : 0: the branch-free step of a
    /// bitwise CRC or LFSR (`-(crc & 1) & poly`, which RV32 compilers write
    /// as these three). A test and a cmov: two instructions between x and t,
    /// where the shifts and the and were three. The and overwrites every
    /// value t takes on the way, and none of the three can leave the block.
    /// Returns false (emitting nothing) for other triples.
    mutating func bitMask(_ first: MicroOp, _ second: MicroOp, _ third: MicroOp) -> Bool {
        let t = first.rd
        guard first.kind == .slli, second.kind == .srai, second.imm == 31, second.rs1 == t, second.rd == t,
              third.kind == .and, third.rd == t, third.rs1 == t || third.rs2 == t, Int(t) != MicroOp.writeSink
        else { return false }
        let x = first.rs1, m = third.rs1 == t ? third.rs2 : third.rs1
        guard m != t else { return false } // the broadcast bit alone
        let out = host(t) ?? .eax
        if m == 0 {
            a.mov(out, 0 as UInt32) // anything masked with x0
        } else {
            let bit = host(x) ?? .ecx
            if bit == .ecx { read(.ecx, x) }
            a.test(bit, 1 << (31 - first.imm)) // x first: t may be x
            a.mov(out, 0 as UInt32) // a mov keeps the test's flags
            if let hm = host(m) { a.cmov(.ne, out, hm) } else { a.cmov(.ne, out, JITCodeGenerator.x(m)) }
        }
        if out == .eax { write(t, .eax) }
        return true
    }

    /// x[rd] = x[rs1] op x[rs2]: straight into a cached rd where the operands allow.
    mutating func binary(_ k: A.ALU, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        if k == .add, let hd = host(rd), let h1 = host(rs1), let h2 = host(rs2), rd != rs1, rd != rs2 {
            a.lea(hd, A.Address(base: h1.q, index: h2.q)) // three operands; the 32-bit lea wraps as add does
            return
        }
        if k == .sub, rs1 == 0 { // neg
            let d = host(rd) ?? .eax
            read(d, rs2)
            a.neg(d)
            if d == .eax { write(rd, .eax) }
            return
        }
        if let hd = host(rd) {
            if rd == rs1 {
                alu(k, hd, rs2)
                return
            }
            if rd != rs2 {
                read(hd, rs1)
                alu(k, hd, rs2)
                return
            }
            if k != .sub { // rd = rs2: commutative operations take rs1 as the second operand
                alu(k, hd, rs1)
                return
            }
        }
        if rd == rs1, let h2 = host(rs2) { // x[rd] op= a cached rs2, in the register file itself
            a.alu(k, JITCodeGenerator.x(rd), h2)
            return
        }
        read(.eax, rs1)
        alu(k, .eax, rs2)
        write(rd, .eax)
    }

    mutating func immediate(_ k: A.ALU, _ rd: UInt8, _ rs1: UInt8, _ imm: Int32) {
        if rd == rs1 {
            alu(k, rd, imm)
        } else if let hd = host(rd) {
            read(hd, rs1)
            a.alu(k, hd, imm)
        } else {
            read(.eax, rs1)
            a.alu(k, .eax, imm)
            write(rd, .eax)
        }
    }

    mutating func shift(_ k: A.Shift, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        read(.ecx, rs2) // x86 masks a 32-bit shift count to 5 bits, as RV32 does
        let d = host(rd) ?? .eax // the count is in ecx, so rd may be rs2
        read(d, rs1)
        a.shift(k, d)
        if d == .eax { write(rd, .eax) }
    }

    /// slt, sltu, slti, sltiu: x[rd] = 1 if x[rs1] < x[rs2] (or imm), signed
    /// or unsigned; with `negated`, 1 if not (the op and an `xori rd, rd, 1` after it).
    mutating func setLess(_ op: MicroOp, negated: Bool = false) {
        let rd = op.rd, rs1 = op.rs1, rs2 = op.rs2, imm = Int32(bitPattern: op.imm)
        let signed = op.kind == .slt || op.kind == .slti
        let c: A.Condition = signed ? (negated ? .ge : .l) : (negated ? .ae : .b)
        if op.kind == .slti || op.kind == .sltiu {
            setIf(c, rd, operands: (rs1, rs1)) { g in
                if let h = g.host(rs1) { g.a.cmp(h, imm) } else { g.a.alu(.cmp, JITCodeGenerator.x(rs1), imm) }
            }
            return
        }
        setIf(c, rd, operands: (rs1, rs2)) { g in
            if let h = g.host(rs1) {
                g.alu(.cmp, h, rs2)
            } else if let h2 = g.host(rs2) {
                g.a.alu(.cmp, JITCodeGenerator.x(rs1), h2)
            } else {
                g.read(.eax, rs1)
                g.alu(.cmp, .eax, rs2)
            }
        }
    }

    /// A set-less-than then `xori rd, rd, 1` of its result: one setcc of the opposite condition.
    /// Neither op can leave the block. Returns false (emitting nothing) for other pairs.
    mutating func negatedLess(_ first: MicroOp, _ second: MicroOp) -> Bool {
        switch first.kind {
        case .slt, .sltu, .slti, .sltiu: break
        default: return false
        }
        guard second.kind == .xori, second.imm == 1,
              second.rs1 == first.rd, second.rd == first.rd, Int(first.rd) != MicroOp.writeSink else { return false }
        setLess(first, negated: true)
        return true
    }

    /// x[rd] = 1 if condition c holds after the flags `compare` sets, else 0.
    /// The 0 must be written before the compare (an xor clobbers the flags):
    /// into rd's host register when rd is cached and not one of the
    /// `operands`, which setcc then completes. A cached rd that is an
    /// operand takes setcc's byte zero-extended; an uncached one, ecx zeroed first.
    mutating func setIf(_ c: A.Condition, _ rd: UInt8, operands: (UInt8, UInt8),
                        compare: (inout JITCodeGenerator) -> Void) {
        if let hd = host(rd) {
            if rd != operands.0, rd != operands.1 {
                a.xor(hd, hd)
                compare(&self)
                a.set(c, hd.b)
            } else {
                compare(&self)
                a.set(c, .cl)
                a.movzx(hd, .cl)
            }
            return
        }
        a.xor(.ecx, .ecx)
        compare(&self)
        a.set(c, .cl)
        write(rd, .ecx)
    }

    /// RV32M's div/rem: x / 0 = -1 and x % 0 = x; INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (no host fault).
    mutating func signedDivide(_ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, remainder: Bool) {
        let byZero = a.newLabel(), overflow = a.newLabel(), divide = a.newLabel(), done = a.newLabel()
        read(.eax, rs1)
        read(.ecx, rs2)
        a.test(.ecx, .ecx)
        a.j(.e, byZero)
        a.cmp(.ecx, -1)
        a.j(.ne, divide)
        a.cmp(.eax, Int32.min)
        a.j(.e, overflow)
        a.bind(divide)
        a.cdq()
        a.idiv(.ecx)
        a.jmp(done)
        a.bind(byZero)
        if remainder { a.mov(.edx, .eax) } else { a.mov(.eax, UInt32.max) }
        a.jmp(done)
        a.bind(overflow)
        if remainder { a.xor(.edx, .edx) } // the quotient, INT_MIN, is already in eax
        a.bind(done)
        write(rd, remainder ? .edx : .eax)
    }

    mutating func unsignedDivide(_ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, remainder: Bool) {
        let byZero = a.newLabel(), done = a.newLabel()
        read(.eax, rs1)
        read(.ecx, rs2)
        a.test(.ecx, .ecx)
        a.j(.e, byZero)
        a.xor(.edx, .edx)
        a.div(.ecx)
        a.jmp(done)
        a.bind(byZero)
        if remainder { a.mov(.edx, .eax) } else { a.mov(.eax, UInt32.max) }
        a.bind(done)
        write(rd, remainder ? .edx : .eax)
    }

    // MARK: - Memory

    /// x[r] changed: what was verified about its old value no longer holds.
    mutating func forget(_ r: UInt8) {
        var i = 0
        while i < verified.count { // usually empty or a few: no closure, no removeAll(where:)
            if verified[i].register == r { verified.swapAt(i, verified.count - 1); verified.removeLast() } else { i += 1 }
        }
    }

    /// Where an access's bytes are in the host: memory + register (zero-extended) + disp.
    struct GuestAddress {
        var register: A.Reg32
        var disp: Int32
    }

    /// The operand of `size` bytes at `at`: memory is r13, or the view's address in the
    /// displacement where it lies low (`viewAddress`).
    func operand(_ at: GuestAddress, size: Int) -> A.Mem {
        if let viewAddress { return A.Mem(address: at.register.q + (at.disp + viewAddress), size: size) }
        return A.Mem(address: HostRegister.memory + at.register.q + at.disp, size: size)
    }

    /// Where the n bytes at a = x[rs1] + imm are, checked inside the limit
    /// (a <= limit - n), trapping at op k if not.
    ///
    /// Usually a register holding a, zero-extended to 64 bits (a cached
    /// x[rs1] itself when imm is 0: cached registers are always zero-extended;
    /// otherwise eax), and no displacement. The check is left out where an
    /// earlier access of the block, on every path here and with x[rs1]
    /// unchanged since, checked bytes imm ..< imm + n from the same register.
    /// That is sound with 32-bit wrapping: a check that passed for offsets
    /// o ..< o + m means x + o + m <= limit < 2^32 as integers if x + o did
    /// not wrap, and if it did, every offset from o on wraps too; either way
    /// the bytes at any offset inside the range are inside the limit. Two such
    /// ranges that overlap are verified together.
    ///
    /// A run of accesses from one base, with the base unchanged and no other
    /// way in between (`accessesAhead`), is checked once, at the first, for
    /// the highest byte any of them reaches, in 64 bits: x + top <= limit
    /// (and, if some offset is negative, x + lowest >= 0); so is one access
    /// at a positive offset. Then no offset of
    /// the run wraps, and each access addresses memory + x + imm directly
    /// (no lea). If the check fails
    /// (some access of the run is out of bounds, or the guest's addresses
    /// wrap at 2^32), the block leaves for the reference interpreter to step
    /// from op k, which traps at the right access with the right address.
    mutating func address(_ op: MicroOp, size n: Int32, at k: Int) -> GuestAddress {
        if guarded { return guardedAddress(op) }
        let low = Int32(bitPattern: op.imm), high = low &+ n
        let ranged = high > low // false for an offset near Int32.max: no range
        if ranged, verified.contains(where: { $0.wide && $0.register == op.rs1 && $0.low <= low && high <= $0.high }) {
            return GuestAddress(register: base(op.rs1), disp: low)
        }
        let covered = ranged && verified.contains(where: { $0.register == op.rs1 && $0.low <= low && high <= $0.high })
        // A run of accesses, or one access at x + low with low > 0 checked as a run of one (in the
        // limit table's reach): x + high <= limit in 64 bits, the access at memory + x + low, no lea.
        let one = low > 0 && high <= JITContext.limitOffsets ? (low: low, high: high) : nil
        if ranged, !covered,
           let run = (verified.count < 8 ? accessesAhead(from: k, base: op.rs1, low: low, high: high) : nil) ?? one {
            let r = base(op.rs1)
            let step = a.newLabel()
            if run.low < 0 { // x + low >= 0 too, in 64 bits
                a.lea(.rcx, r.q + run.low)
                a.test(.rcx, .rcx)
                a.j(.s, step)
            }
            if (1...JITContext.limitOffsets).contains(Int(run.high)) {
                a.cmp(r.q, limit(less: Int(run.high))) // x + high <= limit, in 64 bits: no wrap
            } else {
                a.lea(.rcx, r.q + (run.high - 1))
                a.cmp(.rcx, limit(less: 1))
            }
            a.j(.g, step)
            later(.step(step, at: k))
            if verified.count < 8 { verified.append(VerifiedRange(register: op.rs1, low: min(run.low, 0), high: run.high, wide: true)) }
            return GuestAddress(register: r, disp: low)
        }
        var r = A.Reg32.eax
        if op.imm == 0, let h = host(op.rs1) {
            r = h
        } else if let h = host(op.rs1) {
            a.lea(.eax, h.q + Int32(bitPattern: op.imm)) // wraps at 32 bits, as the guest's address does
        } else {
            read(.eax, op.rs1)
            if op.imm != 0 { a.add(.eax, Int32(bitPattern: op.imm)) }
        }
        guard ranged else { return checked(r, size: n, at: k) }
        if covered { return GuestAddress(register: r, disp: 0) }
        if let i = verified.firstIndex(where: { !$0.wide && $0.register == op.rs1 && $0.low <= high && low <= $0.high }) {
            verified[i].low = min(verified[i].low, low)
            verified[i].high = max(verified[i].high, high)
        } else if verified.count < 8 {
            verified.append(VerifiedRange(register: op.rs1, low: low, high: high))
        }
        return checked(r, size: n, at: k)
    }

    /// Where an access is in a guarded view (`guarded`): no check, no lea. A
    /// cached base (or eax loaded) plus imm: memory + x + imm, in 64 bits,
    /// lies in the view's reservation for every x below 2^32 and every
    /// 12-bit imm (`GuardedView.below` and `reach`); past the bound, below
    /// address 0, or where the guest's 32-bit address wraps, it faults, and
    /// the reference interpreter steps the op, exactly. The caller notes the
    /// access instruction as a fault site (`faultSite`).
    mutating func guardedAddress(_ op: MicroOp) -> GuestAddress {
        GuestAddress(register: base(op.rs1), disp: Int32(bitPattern: op.imm))
    }

    /// With guarded views, notes that the instruction at `offset` accesses guest storage for op k:
    /// if it faults, the code resumes at the step tail of the allocation in use, with k in ecx.
    mutating func faultSite(at offset: Int, op k: Int) {
        guard listsFaults else { return }
        if allocation.stepTail == nil { allocation.stepTail = a.newLabel() }
        faultSites.append((offset, allocation.stepTail!, UInt32(k)))
    }

    /// The context's limit - k (`JITContext.limitLess`), noted in `limitEntries`.
    mutating func limit(less k: Int) -> A.Mem {
        limitEntries = max(limitEntries, k)
        return .qword[field(JITContext.limitLess(k))]
    }

    /// The host register holding x[r] zero-extended: its cache register, or eax loaded.
    private mutating func base(_ r: UInt8) -> A.Reg32 {
        if let h = host(r) { return h }
        read(.eax, r)
        return .eax
    }

    /// How many ops past an access `accessesAhead` looks.
    static let lookahead = 16

    /// The offsets (lowest ..< highest end) of the bytes that op k's access
    /// (offsets `low` ..< `high`) and the accesses after it from the same
    /// `base` reach, if some later one lies outside op k's bytes (else one
    /// check buys nothing; two such if the run reaches below offset 0, whose
    /// check is two): the accesses that follow op k, up to `lookahead` ops
    /// on, before the base is written, a branch or jump (an access it may
    /// skip must not fail the check for the others), the block ends or
    /// another way in (a label) joins. An offset whose end wraps is left out.
    func accessesAhead(from k: Int, base: UInt8, low: Int32, high: Int32) -> (low: Int32, high: Int32)? {
        guard let ops = blockOps else { return nil }
        let first = ops[k]
        if first.kind.registerUse.writes, first.rd == base { return nil } // the base changes at op k itself
        var run = (low: low, high: high), further = 0, j = k + 1
        while j <= Int(count), j - k <= JITCodeGenerator.lookahead, !joined(j) {
            let op = ops[j]
            if let access = op.kind.access, op.rs1 == base {
                let o = Int32(bitPattern: op.imm), e = o &+ Int32(access.size)
                if e > o {
                    run = (min(run.low, o), max(run.high, e))
                    if o < low || e > high { further += 1 } // this one would need a check of its own
                }
            }
            if op.kind.endsBlock || op.kind.isDirectJump || (op.kind.registerUse.writes && op.rd == base) { break }
            j += 1
        }
        // Below offset 0 the check is two (x + low >= 0 as well): worth it for three checks or more
        // (measured: for two, qsort +1.3% host instructions in generated code).
        return further >= (run.low < 0 ? 2 : 1) ? run : nil
    }

    /// Emits the check that the n bytes at the address in `r` are inside the limit, trapping at op k if not.
    private mutating func checked(_ r: A.Reg32, size n: Int32, at k: Int) -> GuestAddress {
        a.cmp(r.q, limit(less: Int(n)))
        let trap = a.newLabel()
        a.j(.g, trap)
        later(.memoryTrap(trap, at: k, address: r))
        return GuestAddress(register: r, disp: 0)
    }

    mutating func load(_ op: MicroOp, at k: Int) {
        let access = op.kind.access!
        let at = address(op, size: Int32(access.size), at: k)
        let m = operand(at, size: access.size)
        let d = host(op.rd) ?? .edx
        faultSite(at: a.offset, op: k) // the load, next
        load(d, m, signed: access.signed)
        if host(op.rd) == nil { a.mov(JITCodeGenerator.x(op.rd), .edx) }
    }

    /// d = the m.size bytes at m, zero- or sign-extended to 32 bits.
    private mutating func load(_ d: A.Reg32, _ m: A.Mem, signed: Bool) {
        if m.size == 4 {
            a.mov(d, m)
        } else if signed {
            a.movsx(d, m)
        } else {
            a.movzx(d, m)
        }
    }

    mutating func store(_ op: MicroOp, at k: Int) {
        let n = op.kind.storeSize!
        let at = address(op, size: Int32(n), at: k)
        // The value straight from its cached register, at every width (sil, dil and bpl under a REX prefix).
        let value = host(op.rs2) ?? .edx
        if value == .edx { read(.edx, op.rs2) }
        let m = operand(at, size: n)
        faultSite(at: a.offset, op: k) // the store, next
        switch n {
        case 1: a.mov(m, value.b)
        case 2: a.mov(m, value.w)
        default: a.mov(m, value)
        }
        // Self-modifying code: might the store have touched a word translations were made from?
        // One byte of the code map, at the store's physical address, answers for all widths.
        let l = Int32(bitPattern: block.l)
        var map = HostRegister.codeMap
        if !mapInRBP {
            map = .rdx
            a.mov(.rdx, .qword[field(JITContext.codeMap)])
        }
        if let d = Int32(exactly: Int64(at.disp) + Int64(block.l)) {
            a.cmp(A.Mem(address: map + at.register.q + d, size: 1), 0)
        } else {
            a.lea(.ecx, at.register.q + (at.disp &+ l)) // physical = a + l, below 2^32 (a 32-bit lea wraps)
            a.cmp(A.Mem(address: map + .rcx, size: 1), 0)
        }
        let hit = a.newLabel(), resume = a.newLabel()
        a.j(.ne, hit)
        a.bind(resume)
        later(.storeHit(hit, resume: resume, address: at.register, l: at.disp &+ l, size: n, at: k))
    }

    // MARK: - Control transfers

    /// A conditional branch: a side exit when taken (a superblock runs on when not).
    ///
    /// A loop's branch back to op i of the block charges the next turn first
    /// and compares after: `sub budget, n; jl spent; cmp; j<c> loop; add
    /// budget, n`, so the taken branch, the hot path, ends the turn. (With
    /// the compare first, a not-taken exit test and then the taken budget
    /// test, the same loop ran 0.43-0.60 ns per turn by where it lay in a
    /// 64-byte line on this AMD EPYC; this way 0.44-0.52: a C harness running
    /// matmul's inner loop at every 4-byte offset.) Where the budget is short,
    /// a stub compares: taken, it leaves at op i (`Stub.slow`, which gives the
    /// charge back with the rest); not taken, it gives the turn back and runs on.
    mutating func branch(_ c: A.Condition, _ op: MicroOp, at k: Int) {
        if let i = opIndex(op.imm), i <= k, let label = landing(i), staysInAllocation(i) {
            // A loop inside this block: taken is the hot path, so it stays inline.
            // Out of the region, through a stub that switches.
            let turn = Int32(k - i + 1), spent = a.newLabel(), notTaken = a.newLabel(), slow = a.newLabel()
            a.sub(HostRegister.budget, turn)
            a.j(.l, spent)
            compare(op)
            a.j(c, label)
            a.add(HostRegister.budget, turn)
            a.bind(notTaken)
            later(.shortTurn(spent, op, c, turn: turn, notTaken: notTaken, taken: slow))
            later(.slow(slow, at: i, writeBack: true))
            return
        }
        compare(op)
        let taken = a.newLabel()
        a.j(c, taken)
        later(.taken(taken, from: k, target: op.imm))
    }

    /// The flags of x[rs1] compared with x[rs2], for a branch.
    mutating func compare(_ op: MicroOp) {
        if op.rs2 == 0 {
            if let h = host(op.rs1) { a.test(h, h) } else { a.cmp(JITCodeGenerator.x(op.rs1), 0) }
        } else if let h = host(op.rs1) {
            alu(.cmp, h, op.rs2)
        } else if let h2 = host(op.rs2) {
            a.alu(.cmp, JITCodeGenerator.x(op.rs1), h2) // cmp [x(rs1)], rs2: the same flags
        } else {
            read(.eax, op.rs1)
            alu(.cmp, .eax, op.rs2)
        }
    }

    /// Where a jalr's target (eax) is looked for in the jump cache: its set's first way, at
    /// rdx (the cache) + rcx (the set's index times 4) * 8; the second way 16 bytes on.
    static let firstWay = A.Address(base: .rdx, index: .rcx, scale: UInt8(JumpCache.ways * JumpCache.entryBytes / 4))

    /// jalr: the target's block from the jump cache, or from `resolve`, which fills the entry.
    mutating func indirectJump(_ op: MicroOp, at k: Int) {
        read(.eax, op.rs1)
        if op.imm != 0 { a.add(.eax, Int32(bitPattern: op.imm)) }
        a.and(.eax, -2)
        if Int(op.rd) != MicroOp.writeSink { write(op.rd, pc(k) &+ 4) }
        writeBack()
        // Set (P >> 2) mod sets, at 32 bytes each (two ways of 16): (P & (sets - 1) << 2) * 8 bytes in.
        a.mov(.ecx, .eax)
        a.and(.ecx, Int32(JumpCache.sets - 1) << 2)
        a.mov(.rdx, .qword[field(JITContext.jumpCache)])
        let entry = JITCodeGenerator.firstWay
        a.cmp(.eax, .dword[entry])
        let miss = a.newLabel()
        a.j(.ne, miss)
        a.jmp(.qword[entry + 8])
        later(.indirectMiss(miss))
    }
}
