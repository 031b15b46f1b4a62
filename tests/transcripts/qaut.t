args: --qaut

S: +OK pop3d ready
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
S: QAUT
S: EXPIRE NEVER
S: IMPLEMENTATION pop3d
S: .
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
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
S: QAUT
S: EXPIRE NEVER
S: IMPLEMENTATION pop3d
S: .
C: QAUT
S: +OK 1 messages deleted, log in again
C: STAT
S: -ERR command not valid in this state
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: STAT
S: +OK 7 467
C: RETR 1
S: +OK 114 octets
S: Subject: dots
S: ..X-Header-With-Dot: yes
S:
S: ..
S: ...
S: ..leading dot
S: ....three
S: a line. with dots.
S: \x20.space then dot
S: ..
S: .
C: QAUT
S: +OK 0 messages deleted, log in again
@login me
S: +OK maildrop has 2 messages (286 octets)
C: STAT
S: +OK 2 286
C: UIDL
S: +OK unique-id listing follows
S: 1 2.eml
S: 2 3.eml
S: .
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/2.eml
    me/3.eml
    odd/
    odd/a-dots
    odd/b-empty
    odd/c-no-final-newline
    odd/d-8bit
    odd/e-cr-at-end
    odd/f-headers-only
    odd/g-mixed-endings
