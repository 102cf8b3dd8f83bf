" gdm for Vim 9 (and Neovim) with ALE 3.3+: registers gdm as an ALE LSP linter, keeps the cost
" and the pending changes for your statusline, and gives you :GdmAsk.
"
"   let g:gdm_settings = {'model': 'openai/gpt-4.1'}   " gdm's settings (README, "Settings")
"   set runtimepath+=/path/to/gdm/editors/vim
"   packadd ale
"   set statusline=%f\ %m%=%{GdmStatusline()}
"
" Ask: a comment `# gdm: <instruction>` and :ALECodeAction on it (pick "gdm: <instruction>"),
" or :GdmAsk <prompt> on a line or range.  Review: :ALECodeAction on a changed line ("gdm:
" Accept this change", "gdm: Reject this change").  ALE shows no code lenses and no progress;
" gdm's messages (task done, its risk and cost) show as ALE messages, and GdmStatusline() shows
" the cost.  ALE applies gdm's edits without answering workspace/applyEdit: gdm sees the new
" text and records the change as accepted (after UNDECLARED_APPLY_EDIT_TIMEOUT_S, 10 s).

if exists('g:loaded_gdm')
  finish
endif
let g:loaded_gdm = 1

let g:gdm_command = get(g:, 'gdm_command', ['gdm-lsp'])
let g:gdm_settings = get(g:, 'gdm_settings', {})
let g:gdm_filetypes = get(g:, 'gdm_filetypes',
\   ['python', 'javascript', 'typescript', 'go', 'rust', 'c', 'cpp', 'java', 'sh', 'lua', 'vim'])
let g:gdm_root_markers = get(g:, 'gdm_root_markers', ['.git', 'pyproject.toml', 'package.json', 'go.mod'])
" gdm tells the end of a task (risk, cost) as an Info message: let ALE show it.
let g:ale_lsp_show_message_severity = get(g:, 'ale_lsp_show_message_severity', 'information')

" What gdm's notifications told: {'cost': {...}, 'patches': {id: patch}, 'tasks': {id: status}}.
let g:gdm_state = {'cost': {}, 'patches': {}, 'tasks': {}, 'conn': ''}

function! s:Root(buffer) abort
  let l:dir = fnamemodify(bufname(a:buffer), ':p:h')
  for l:marker in g:gdm_root_markers
    let l:found = finddir(l:marker, l:dir . ';')
    if empty(l:found)
      let l:found = findfile(l:marker, l:dir . ';')
    endif
    if !empty(l:found)
      return fnamemodify(substitute(fnamemodify(l:found, ':p'), '/$', '', ''), ':h')
    endif
  endfor
  return l:dir
endfunction

function! s:OnMessage(conn_id, message) abort
  let l:method = get(a:message, 'method', '')
  let l:params = get(a:message, 'params', {})
  if l:method is# 'gdm/costUpdate'
    let g:gdm_state.cost = l:params
  elseif l:method is# 'gdm/patchProposed'
    let g:gdm_state.patches[l:params.patchId] = l:params
  elseif l:method is# 'gdm/taskEvent' && get(l:params, 'kind', '') is# 'done'
    let g:gdm_state.tasks[l:params.taskId] = l:params.status
  else
    return
  endif
  redrawstatus
endfunction

" Listen to gdm's connection once ALE has started it.
function! s:Listen() abort
  for [l:id, l:conn] in items(ale#lsp#GetConnections())
    " ALE names a connection '<executable>:<project root>'.
    if stridx(l:id, g:gdm_command[0] . ':') == 0 && l:id isnot# g:gdm_state.conn
      call ale#lsp#RegisterCallback(l:id, function('s:OnMessage'))
      let g:gdm_state.conn = l:id
    endif
  endfor
endfunction

function! GdmPending() abort
  return filter(values(g:gdm_state.patches), 'index(["pending", "partial"], v:val.status) >= 0')
endfunction

" A statusline component: "gdm $0.0123 · day $0.4500 · 1 pending" (empty before any cost).
function! GdmStatusline() abort
  let l:cost = g:gdm_state.cost
  let l:pending = len(GdmPending())
  if empty(l:cost) && l:pending == 0
    return ''
  endif
  let l:parts = [empty(l:cost) ? 'gdm' : printf('gdm $%.4f', get(l:cost, 'taskUsd', 0.0) * 1.0)]
  if !empty(l:cost)
    call add(l:parts, printf('day $%.4f', get(l:cost, 'dayUsd', 0.0) * 1.0))
  endif
  if index(values(g:gdm_state.tasks), 'running') >= 0
    call add(l:parts, 'working')
  endif
  if l:pending > 0
    call add(l:parts, l:pending . ' pending')
  endif
  return join(l:parts, ' · ')
endfunction

" :GdmAsk {prompt} about the current line or a range.
function! GdmAsk(prompt, first, last) abort
  call s:Listen()
  if empty(g:gdm_state.conn)
    echoerr 'gdm: not started in this buffer (ALE starts it when it lints)'
    return
  endif
  let l:payload = {'prompt': a:prompt, 'uri': ale#util#ToURI(expand('%:p')),
  \   'range': {'start': {'line': a:first - 1, 'character': 0}, 'end': {'line': a:last, 'character': 0}}}
  call ale#lsp#Send(g:gdm_state.conn, ale#lsp#message#ExecuteCommand('gdm.ask', [l:payload]))
endfunction

command! -range -nargs=+ GdmAsk call GdmAsk(<q-args>, <line1>, <line2>)

function! s:Define() abort
  for l:filetype in g:gdm_filetypes
    call ale#linter#Define(l:filetype, {
    \   'name': 'gdm',
    \   'lsp': 'stdio',
    \   'executable': {buffer -> g:gdm_command[0]},
    \   'command': {buffer -> join(map(copy(g:gdm_command), 'ale#Escape(v:val)'), ' ')},
    \   'project_root': function('s:Root'),
    \   'initialization_options': {buffer -> g:gdm_settings},
    \   'lsp_config': {buffer -> {'gdm': g:gdm_settings}},
    \})
  endfor
endfunction

augroup gdm
  autocmd!
  autocmd User ALELSPStarted call s:Listen()
augroup END

" ALE may load after this file (packadd order): define the linters once it is there.
if exists('g:loaded_ale_dont_use_this_in_other_plugins_please')
  call s:Define()
else
  augroup gdm_define
    autocmd!
    autocmd VimEnter * call s:Define()
  augroup END
endif
