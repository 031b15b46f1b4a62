S: +OK pop3d ready
C: DELI 1
S: -ERR command not valid in this state
C: WAKE
S: -ERR command not valid in this state
@login me
S: +OK maildrop has 3 messages (454 octets)
C: WAKE
S: -ERR command not valid in this state
C: QUIT
S: +OK bye, 0 messages deleted
