S: +OK pop3d ready
C: USER nosuchuser
S: +OK send PASS
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
