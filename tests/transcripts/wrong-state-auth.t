S: +OK pop3d ready
C: STAT
S: -ERR command not valid in this state
C: LIST 1
S: -ERR command not valid in this state
C: QUIT
S: +OK bye
