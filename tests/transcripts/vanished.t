S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: LIST
S: +OK 3 messages (454 octets)
S: 1 168
S: 2 215
S: 3 71
S: .
during:
    rm me/2.eml
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: TOP 2 0
S: -ERR message is no longer available
C: LIST 2
S: +OK 2 215
C: STAT
S: +OK 3 454
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
C: DELE 2
S: +OK message deleted
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/3.eml
