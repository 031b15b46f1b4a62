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
C: LIST 1
S: +OK 1 168
C: UIDL 1
S: +OK 1 1.eml
C: TOP 1 0
S: +OK top of message follows
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
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
C: NOOP
S: +OK
C: LIST 2
S: +OK 2 215
C: UIDL 2
S: +OK 2 2.eml
C: TOP 2 0
S: +OK top of message follows
S: From: bob@example.org
S: To: me@example.org
S: Subject: two
S: Date: Tue, 02 Jan 2024 10:00:00 +0000
S:
S: .
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
C: NOOP
S: +OK
C: LIST 3
S: +OK 3 71
C: UIDL 3
S: +OK 3 3.eml
C: TOP 3 0
S: +OK top of message follows
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: .
C: RETR 3
S: +OK 71 octets
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: Short.
S: .
C: NOOP
S: +OK
C: CAPA
S: +OK capability list follows
S: TOP
S: UIDL
S: USER
S: SASL PLAIN LOGIN
S: UTF8 USER
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: UID-PARAM
S: DELI
S: SLEE-WAKE
S: EXPIRE NEVER
S: IMPLEMENTATION pop3d
S: .
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: 2 2.eml
S: 3 3.eml
S: .
C: DELE 2
S: +OK message deleted
C: LIST 2
S: -ERR message is deleted
C: STAT
S: +OK 2 239
C: RSET
S: +OK maildrop has 3 messages (454 octets)
C: TOP 1 1
S: +OK top of message follows
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: Hello me,
S: .
C: NOOP
S: +OK
C: FOO
S: -ERR unknown command
C: TOP 2 1
S: +OK top of message follows
S: From: bob@example.org
S: To: me@example.org
S: Subject: two
S: Date: Tue, 02 Jan 2024 10:00:00 +0000
S:
S: Message two is stored with CRLF line endings.
S: .
C: NOOP
S: +OK
C: FOO
S: -ERR unknown command
C: TOP 3 1
S: +OK top of message follows
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: Short.
S: .
C: NOOP
S: +OK
C: FOO
S: -ERR unknown command
C: LIST
S: +OK 3 messages (454 octets)
S: 1 168
S: 2 215
S: 3 71
S: .
C: STAT
S: +OK 3 454
C: DELE 3
S: +OK message deleted
C: DELE 1
S: +OK message deleted
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: NOOP
S: +OK
C: QUIT
S: +OK bye, 2 messages deleted

after:
    me/
    me/2.eml
