S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
C: LIST
S: +OK 3 messages (454 octets)
S: 1 168
S: 2 215
S: 3 71
S: .
C: RETR 1
S: +OK 168 octets
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: Hello me,
S: this is message one, stored with LF line endings.
S: Bye.
S: .
C: DELE 1
S: +OK message deleted
C: RETR 2
S: +OK 215 octets
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
C: DELE 2
S: +OK message deleted
C: QUIT
S: +OK bye, 2 messages deleted

after:
    me/
    me/3.eml
