S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: TOP 1 0
S: +OK top of message follows
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: .
C: TOP 1 1
S: +OK top of message follows
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: Hello me,
S: .
C: TOP 1 2
S: +OK top of message follows
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: Hello me,
S: this is message one, stored with LF line endings.
S: .
C: TOP 1 100
S: +OK top of message follows
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: Hello me,
S: this is message one, stored with LF line endings.
S: Bye.
S: .
C: TOP 2 3
S: +OK top of message follows
S: From: bob@example.org
S: To: me@example.org
S: Subject: two
S: Date: Tue, 02 Jan 2024 10:00:00 +0000
S:
S: Message two is stored with CRLF line endings.
S: Its size on disk is its size on the wire.
S: Third line.
S: .
C: TOP 2 4294967296
S: +OK top of message follows
S: From: bob@example.org
S: To: me@example.org
S: Subject: two
S: Date: Tue, 02 Jan 2024 10:00:00 +0000
S:
S: Message two is stored with CRLF line endings.
S: Its size on disk is its size on the wire.
S: Third line.
S: Fourth line.
S: .
C: QUIT
S: +OK bye, 0 messages deleted
