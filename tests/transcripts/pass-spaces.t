S: +OK pop3d ready
C: USER spacey
S: +OK send PASS
C: PASS correct horse  battery staple
S: +OK maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
C: QUIT
S: +OK bye, 0 messages deleted
