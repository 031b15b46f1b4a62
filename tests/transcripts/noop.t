S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: NOOP
S: +OK
C: NOOP 1
S: -ERR no argument expected
C: QUIT
S: +OK bye, 0 messages deleted
