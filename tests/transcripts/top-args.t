S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: TOP
S: -ERR TOP needs a message number and a line count
C: TOP 1
S: -ERR TOP needs a message number and a line count
C: TOP 1\x20
S: -ERR TOP needs a message number and a line count
C: TOP 1  1
S: -ERR TOP needs a message number and a line count
C: TOP 1 1 1
S: -ERR TOP needs a message number and a line count
C: TOP  1 1
S: -ERR TOP needs a message number and a line count
C: TOP x 1
S: -ERR invalid message number
C: TOP 1 x
S: -ERR invalid line count
C: TOP 1 -1
S: -ERR invalid line count
C: TOP 1 +1
S: -ERR invalid line count
C: TOP 1 99999999999
S: -ERR invalid line count
C: TOP 0 1
S: -ERR no such message
C: TOP 9 1
S: -ERR no such message
C: TOP 1 9999999999
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
C: QUIT
S: +OK bye, 0 messages deleted
