args: --qaut

S: +OK pop3d ready
C: QAUT
S: -ERR command not valid in this state
C: USER me
S: +OK send PASS
C: QAUT
S: -ERR command not valid in this state
C: PASS passw0rd
S: +OK maildrop has 3 messages (454 octets)
C: QAUT extra
S: -ERR no argument expected
C: SLEE
S: +OK sleeping, 0 messages deleted
C: QAUT
S: -ERR command not valid in this state
C: WAKE
S: +OK [ACTIVITY/NONE] maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
