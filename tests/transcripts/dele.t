S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
C: DELE 1
S: -ERR message is deleted
C: LIST 1
S: -ERR message is deleted
C: RETR 1
S: -ERR message is deleted
C: TOP 1 0
S: -ERR message is deleted
C: UIDL 1
S: -ERR message is deleted
C: STAT
S: +OK 2 286
C: LIST
S: +OK 2 messages (286 octets)
S: 2 215
S: 3 71
S: .
C: UIDL
S: +OK unique-id listing follows
S: 2 2.eml
S: 3 3.eml
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
C: DELE
S: -ERR DELE needs a message number
C: DELE 4
S: -ERR no such message
C: DELE x
S: -ERR invalid message number
C: QUIT
S: +OK bye, 1 messages deleted

after:
    me/
    me/2.eml
    me/3.eml
