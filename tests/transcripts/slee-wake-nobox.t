S: +OK pop3d ready
@login nobox
S: +OK maildrop has 0 messages (0 octets)
C: SLEE
S: +OK sleeping, 0 messages deleted
C: WAKE
S: +OK [ACTIVITY/NONE] maildrop has 0 messages (0 octets)
C: STAT
S: +OK 0 0
C: QUIT
S: +OK bye, 0 messages deleted
