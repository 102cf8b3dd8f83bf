" Drives Vim + ALE (silent Ex mode) through gdm's flow with editors/vim/plugin/gdm.vim: a `gdm:`
" comment's :ALECodeAction, accept by :ALECodeAction (ALE shows no lenses), :GdmAsk, reject by
" :ALECodeAction; records the buffer, GdmStatusline() and ALE's messages in $GDM_TEST_RESULT.
set nocompatible
let s:result = {'steps': [], 'shown': []}
let g:gdm_command = json_decode($GDM_TEST_SERVER)
let g:gdm_settings = json_decode($GDM_TEST_SETTINGS)
let g:ale_linters = {'python': ['gdm']}
let g:ale_lint_on_enter = 1
packadd ale
execute 'set runtimepath+=' . fnameescape($GDM_TEST_REPO . '/editors/vim')
runtime plugin/gdm.vim
filetype plugin on

" The user's pick in ALE's numbered code action menu.
runtime autoload/ale/util.vim
let s:wanted = ''
function! ale#util#Input(message, value, ...) abort
  for l:line in split(a:message, "\n")
    if l:line =~# '^\d\+) ' && stridx(l:line, s:wanted) >= 0
      return matchstr(l:line, '^\d\+')
    endif
  endfor
  let s:result.offered = a:message
  return ''
endfunction
function! ale#util#ShowMessage(string, ...) abort
  call add(s:result.shown, a:string)
endfunction

function! s:Wait(what, cond) abort
  let l:deadline = reltimefloat(reltime()) + 40
  while !eval(a:cond) && reltimefloat(reltime()) < l:deadline
    sleep 50m
  endwhile
  if !eval(a:cond)
    throw 'timed out waiting for ' . a:what
  endif
  call add(s:result.steps, a:what)
endfunction

function! s:Text() abort
  return join(getline(1, '$'), "\n") . "\n"
endfunction

function! s:Done() abort
  return len(filter(values(g:gdm_state.tasks), 'v:val is# "done"'))
endfunction

function! s:Action(wanted) abort
  let s:wanted = a:wanted
  ALECodeAction
endfunction

function! s:Main() abort
  execute 'edit ' . fnameescape($GDM_TEST_WORKSPACE . '/calc.py')
  ALELint
  call s:Wait('ALE started gdm', '!empty(g:gdm_state.conn)')
  call s:Wait('session open (first gdm/costUpdate)', '!empty(g:gdm_state.cost)')
  " Ask through the `gdm:` comment's code action.
  call search('# gdm: EDTEST')
  call s:Action('gdm: EDTEST guard divide')
  call s:Wait('comment task done', 's:Done() == 1')
  call s:Wait('patch of the comment', 'len(GdmPending()) == 1')
  let l:patch = GdmPending()[0]
  call cursor(l:patch.hunks[0].range.start.line + 1, 1)
  let s:before = s:Text()
  call s:Action('gdm: Accept this change')
  " ALE applies gdm's workspace/applyEdit to the buffer and never answers it. An interactive Vim
  " then fires TextChanged, on which ALE lints and sends didChange; silent Ex mode fires no
  " TextChanged by itself, so do what the interactive event loop does.
  call s:Wait('edit applied by ALE', 's:Text() isnot# s:before')
  doautocmd <nomodeline> TextChanged
  call s:Wait('accepted', 'g:gdm_state.patches[''' . l:patch.patchId . '''].status is# "accepted"')
  let s:result.after_accept = s:Text()
  " Ask with a prompt (:GdmAsk), reject by code action.
  call search('Return a + b')
  GdmAsk EDTEST document add
  call s:Wait('prompt task done', 's:Done() == 2')
  call s:Wait('patch of the prompt', 'len(GdmPending()) == 1')
  let l:patch = GdmPending()[0]
  call cursor(l:patch.hunks[0].range.start.line + 1, 1)
  call s:Action('gdm: Reject this change')
  call s:Wait('rejected', 'g:gdm_state.patches[''' . l:patch.patchId . '''].status is# "rejected"')
  let s:result.after_reject = s:Text()
  " A shell command needs approval; ALE declares no window capabilities, so gdm does not ask and
  " denies (the safe default).
  GdmAsk EDTEST approve shell
  call s:Wait('approved task over', 'len(filter(values(g:gdm_state.tasks), "v:val isnot# ''running''")) == 3')
  let s:result.task_statuses = values(g:gdm_state.tasks)
  call s:Wait('task cost', 'get(g:gdm_state.cost, "taskUsd", 0) > 0')
  let s:result.task_usd = g:gdm_state.cost.taskUsd
  let s:result.statusline = GdmStatusline()
endfunction

let s:ok = 1
try
  call s:Main()
catch
  let s:ok = 0
  let s:result.error = v:exception . ' at ' . v:throwpoint
endtry
let s:result.final = s:Text()
call writefile([json_encode(s:result)], $GDM_TEST_RESULT)
if s:ok
  qa!
else
  cq!
endif
