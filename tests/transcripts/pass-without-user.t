S: +OK pop3d ready
C: PASS passw0rd
S: -ERR USER first
C: QUIT now
S: -ERR no argument expected
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
